"""The train CLI, driven as a user drives it: flagfiles, overrides, bad flags, a reused model_dir."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "data" / "fashion"
needs_real_data = pytest.mark.skipif(
    not (DATA_DIR / "t10k-images-idx3-ubyte.gz").exists(), reason="run `make data` first")


def train(*args, timeout=600):
    """Runs ``python -m fmnist_tf.train`` from the repository root, as the README shows."""
    return subprocess.run([sys.executable, "-m", "fmnist_tf.train", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def table_value(stdout, row):
    match = re.search(rf"^\| {re.escape(row)} \| ([^|]+) \|$", stdout, re.MULTILINE)
    assert match, f"no '{row}' row in:\n{stdout}"
    return match.group(1).strip()


@pytest.mark.parametrize("bad_flag, message", [
    ("--no_such_flag=1", "Unknown command line flag 'no_such_flag'"),
    ("--batch_size=0", "--batch_size"),
    ("--learning_rate=-0.1", "--learning_rate must be > 0"),
    ("--optimizer=adagrad_typo", "--optimizer"),
    ("--warmup_steps=6", "--warmup_steps must be smaller than --train_steps"),
    ("--input=tfdx", "flag --data_source=tfdx: value should be one of <idx|csv|memory|tfds>"),
])
def test_invalid_flags_fail_at_once_with_absl_message(tmp_path, bad_flag, message):
    result = train("--flagfile=fmnist_tf/configs/convnet_smoke.cfg", f"--model_dir={tmp_path}/m", bad_flag)
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "m").exists()


@pytest.mark.real_data
@needs_real_data
def test_smoke_flagfile_trains_overrides_apply_and_reuse_is_guarded(tmp_path):
    model_dir = tmp_path / "smoke"
    result = train("--flagfile=fmnist_tf/configs/convnet_smoke.cfg", f"--model_dir={model_dir}",
                   "--train_steps=6", "--validation_size=500")
    assert result.returncode == 0, result.stderr[-3000:]
    assert table_value(result.stdout, "global step") == "6"
    assert 0.0 <= float(table_value(result.stdout, "test accuracy")) <= 1.0
    flags_txt = (model_dir / "flags.txt").read_text()
    assert "--train_steps=6\n" in flags_txt and "--optimizer=adam\n" in flags_txt
    assert (model_dir / "checkpoint").exists()

    # The same flags again: the Estimator is already at step 6 and trains nothing. How this machine runs it
    # (threads, prefetching) is not what the run is: it continues without --resume.
    again = train(f"--flagfile={model_dir}/flags.txt", f"--model_dir={model_dir}", "--inter_op_threads=1",
                  "--intra_op_threads=1", "--prefetch_batches=0")
    assert again.returncode == 0, again.stderr[-3000:]
    assert table_value(again.stdout, "steps this run") == "0"
    assert "thread pools: inter-op 1, intra-op 1" in again.stderr

    refused = train(f"--flagfile={model_dir}/flags.txt", "--train_steps=8")
    assert refused.returncode != 0
    assert "--train_steps: 6 -> 8" in refused.stderr

    resumed = train(f"--flagfile={model_dir}/flags.txt", "--train_steps=8", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert table_value(resumed.stdout, "global step") == "8"
    assert table_value(resumed.stdout, "steps this run") == "2"


@pytest.mark.real_data
@needs_real_data
def test_training_options_and_augmentation_flags_train_and_are_recorded(tmp_path):
    options = ["--model=small_cnn", "--optimizer=nesterov", "--learning_rate=0.05", "--lr_schedule=cosine",
               "--warmup_steps=2", "--weight_decay=0.0005", "--clip_norm=5.0", "--label_smoothing=0.1",
               "--crop_padding=2", "--horizontal_flip", "--random_erasing=0.5", "--mixup=0.2", "--cutmix=1.0"]
    result = train("--flagfile=fmnist_tf/configs/convnet_smoke.cfg", f"--model_dir={tmp_path}/m",
                   "--train_steps=6", "--validation_size=500", *options)
    assert result.returncode == 0, result.stderr[-3000:]
    assert table_value(result.stdout, "global step") == "6"
    flags_txt = (tmp_path / "m" / "flags.txt").read_text().splitlines()
    assert set(options) <= set(flags_txt)


@pytest.mark.real_data
@needs_real_data
def test_convnet_beats_85_percent_after_a_short_real_run(tmp_path):
    result = train("--flagfile=fmnist_tf/configs/convnet.cfg", f"--model_dir={tmp_path}/m",
                   "--batch_size=128", "--train_steps=400", "--steps_per_eval=400",
                   "--save_checkpoints_steps=400", "--validation_size=0")
    assert result.returncode == 0, result.stderr[-3000:]
    assert float(table_value(result.stdout, "test accuracy")) > 0.85
    assert os.path.exists(tmp_path / "m" / "model.ckpt-400.index")


@pytest.mark.real_data
@needs_real_data
def test_sigterm_checkpoints_exits_zero_and_the_rerun_continues(tmp_path):
    args = ["--flagfile=fmnist_tf/configs/convnet_smoke.cfg", f"--model_dir={tmp_path}/m", "--train_steps=100000",
            "--steps_per_eval=100000", "--save_checkpoints_steps=100000", "--validation_size=500",
            "--projector_examples=0"]
    process = subprocess.Popen([sys.executable, "-m", "fmnist_tf.train", *args], cwd=REPO, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Training has started once the first loss is logged (every 100 steps: log_step_count_steps).
    for line in process.stderr:
        if "loss = " in line:
            break
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr[-3000:]
    match = re.search(r"Stopped by SIGTERM at global step (\d+), checkpointed", stdout)
    assert match, stdout
    stopped_at = int(match.group(1))
    assert 100 <= stopped_at < 100000
    assert (tmp_path / "m" / f"model.ckpt-{stopped_at}.index").exists()

    rerun = train(*args[:2], "--train_steps=" + str(stopped_at + 2), "--steps_per_eval=2",
                  "--save_checkpoints_steps=2", "--validation_size=500", "--projector_examples=0", "--resume")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert table_value(rerun.stdout, "steps this run") == "2"
