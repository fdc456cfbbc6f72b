"""The classic benchmark's model goes where every model goes: evaluate, export, the device.

``python benchmark/convnet.py --rounds=1 --steps_per_round=20`` as its README line runs it, then the front ends
on its model_dir.
"""

import ast
import json

from cli import evaluate_summary, needs_real_data, python_m, read_json, run_readme

pytestmark = needs_real_data


def round_result(classic_model_dir):
    model_dir, result = classic_model_dir
    printed = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    (recorded,) = [json.loads(line) for line in (model_dir / "rounds.jsonl").read_text().splitlines()]
    return printed, recorded


def test_a_round_prints_its_eval_dict_and_records_it(classic_model_dir):
    printed, recorded = round_result(classic_model_dir)
    assert set(printed) == {"accuracy", "loss", "global_step", "top_5_accuracy"}
    assert printed["global_step"] == 20 and recorded["round"] == 1
    assert recorded["accuracy"] == printed["accuracy"]


def test_evaluate_measures_the_benchmarks_own_evaluation(classic_model_dir, tmp_path):
    model_dir, _ = classic_model_dir
    printed, _ = round_result(classic_model_dir)
    result = python_m("fmnist_tf.evaluate", f"--model_dir={model_dir}", f"--report_dir={tmp_path}/report",
                      "--tsne_size=100")
    accuracy, loss, examples = evaluate_summary(result.stdout)
    assert examples == 10000
    assert abs(accuracy - printed["accuracy"]) < 1e-4 and abs(loss - printed["loss"]) < 1e-4
    assert read_json(tmp_path / "report" / "metrics.json")["global_step"] == 20


def test_export_writes_the_device_models_of_the_benchmarks_model_dir(classic_model_dir, tmp_path):
    model_dir, _ = classic_model_dir
    export_dir = tmp_path / "export"
    run_readme("python -m fmnist_tf.export --model_dir=runs/convnet --export_dir=/tmp/e --formats=int8 "
               "--report_card=false", {"runs/convnet": model_dir, "/tmp/e": export_dir})
    manifest = read_json(export_dir / "manifest.json")
    assert {artifact["format"] for artifact in manifest["artifacts"]} == {"int8"}
    assert not (export_dir / "edge_report.json").exists()
    assert manifest["training_flags"]["optimizer"] == "sgd"
    assert manifest["training_flags"]["batch_size"] == 400
