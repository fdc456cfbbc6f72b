"""``python benchmark/convnet.py``: rounds of train-then-evaluate, one JSON line each, resumed when rerun."""

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The tiny files are not Fashion-MNIST, so the benchmark's fetch (which verifies digests) is skipped.
RUN_WITHOUT_FETCH = (
    "import runpy, sys; import fmnist_tf.data as data; data.fetch = lambda *args, **kwargs: None; "
    "sys.argv = ['benchmark/convnet.py', *sys.argv[1:]]; runpy.run_path('benchmark/convnet.py', run_name='__main__')"
)


def run_benchmark(data_dir, model_dir, rounds):
    result = subprocess.run(
        [sys.executable, "-c", RUN_WITHOUT_FETCH, f"--data_dir={data_dir}", f"--model_dir={model_dir}",
         f"--rounds={rounds}", "--steps_per_round=3", "--batch_size=20", "--save_checkpoints_steps=3"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return [ast.literal_eval(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_rounds_print_eval_dicts_append_json_lines_and_resume(tiny_idx_dir, tmp_path):
    model_dir = tmp_path / "convnet"
    printed = run_benchmark(tiny_idx_dir, model_dir, rounds=2)
    assert [result["global_step"] for result in printed] == [3, 6]
    assert all(set(result) >= {"accuracy", "loss", "global_step"} for result in printed)

    # Rerun with one more round: the two recorded rounds are not trained or evaluated again.
    printed_again = run_benchmark(tiny_idx_dir, model_dir, rounds=3)
    assert [result["global_step"] for result in printed_again] == [9]
    lines = (model_dir / "rounds.jsonl").read_text().splitlines()
    assert [json.loads(line)["round"] for line in lines] == [1, 2, 3]
    assert [json.loads(line)["global_step"] for line in lines] == [3, 6, 9]
    assert (model_dir / "model.ckpt-9.index").exists()
