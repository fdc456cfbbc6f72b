"""evaluate takes every form a model leaves the export in, and each scores what the export's report card says.

The model_dir and --checkpoint forms are the newcomer's journey; the classic benchmark's model_dir is its own.
"""

import pytest

from cli import evaluate_summary, needs_real_data, python_m, read_json, run_readme

pytestmark = needs_real_data


@pytest.mark.parametrize("file_name, card_entry", [
    ("model.keras", ("keras",)),
    ("model_float32.tflite", ("tflite", "float32")),
    ("model_int8.tflite", ("tflite", "int8")),
])
def test_each_exported_file_scores_its_report_card_accuracy(file_name, card_entry, edge_export, device_copy,
                                                             tmp_path):
    card = read_json(edge_export[1] / "edge_report.json")
    expected = card
    for key in card_entry:
        expected = expected[key]
    # The README's command on each file; the test images come from --data_dir's default, data/fashion.
    result = run_readme("python -m fmnist_tf.evaluate --model_file=runs/convnet_export/model_int8.tflite "
                        "--report_dir=runs/int8_report", {"runs/convnet_export/model_int8.tflite": device_copy / file_name,
                                                           "runs/int8_report": tmp_path / "report"}, ["--tsne_size=100"])
    accuracy, _, examples = evaluate_summary(result.stdout)
    assert examples == 10000
    assert accuracy == pytest.approx(expected["accuracy"], abs=5e-5)
    metrics = read_json(tmp_path / "report" / "metrics.json")
    assert metrics["kind"] == ("keras" if file_name.endswith(".keras") else "tflite")
    assert metrics["accuracy"] == pytest.approx(expected["accuracy"], abs=1e-9)


def test_the_model_dir_scores_what_its_export_scores(edge_export, tmp_path):
    model_dir, export_dir = edge_export
    card = read_json(export_dir / "edge_report.json")
    python_m("fmnist_tf.evaluate", f"--model_dir={model_dir}", f"--report_dir={tmp_path}/report",
             "--tsne_size=100")
    assert read_json(tmp_path / "report" / "metrics.json")["accuracy"] == pytest.approx(
        card["keras"]["accuracy"], abs=1e-9)
