"""evaluate takes every form a model leaves the export in, and each scores what the export's report card says.

The model_dir and --checkpoint forms are the newcomer's journey; the classic benchmark's model_dir is its own.
"""

import pytest

from cli import REAL_DATA, evaluate_summary, needs_real_data, python_m, read_json

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
    result = python_m("fmnist_tf.evaluate", f"--model_file={device_copy / file_name}", f"--data_dir={REAL_DATA}",
                      f"--report_dir={tmp_path}/report", "--tsne_size=100")
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
