"""benchmark/pi_check.py as `make pi-check` runs it: the Pi predictor, installed offline in an
emulated Raspberry Pi OS 64-bit (a Debian bookworm arm64 root under qemu-user), classifies as the
host's does.

It needs root, qemu-user's binfmt entry for arm64 (`make pi-tools`), and the root cached in
build/pi/ or mmdebstrap to build it there (4 to 6 minutes, once, from Debian's mirror); it is
skipped, with the reason, where one is missing. With the root cached it takes about 2.5 minutes.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmark"))

import pi_root  # noqa: E402

DATA_DIR = REPO / "data" / "fashion"
# make pi-check's root: whichever builds it first serves both.
ROOT_DIR = REPO / "build" / "pi" / "bookworm-arm64"
NUM_IMAGES, NUM_PHOTOS = 100, 4
CANNOT_EMULATE = pi_root.emulation_problem() or pi_root.build_problem(ROOT_DIR)


def run_front_end(*args, timeout):
    result = subprocess.run([sys.executable, *map(str, args)], cwd=REPO, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-5000:]
    return result


@pytest.fixture(scope="module")
def small_export(tmp_path_factory):
    """The smoke recipe trained 150 steps on the real data by the train CLI, exported by the
    export CLI."""
    root = tmp_path_factory.mktemp("pi_check")
    model_dir, export_dir = root / "model", root / "small_export"
    run_front_end("-m", "fmnist_tf.train", "--flagfile=fmnist_tf/configs/convnet_smoke.cfg",
                  f"--model_dir={model_dir}", "--train_steps=150", "--steps_per_eval=150",
                  "--save_checkpoints_steps=150", "--validation_size=0", timeout=600)
    run_front_end("-m", "fmnist_tf.export", f"--model_dir={model_dir}",
                  f"--export_dir={export_dir}", "--formats=int8", "--calibration_size=200",
                  "--report_card=false", timeout=600)
    return export_dir


@pytest.mark.real_data
@pytest.mark.skipif(not (DATA_DIR / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="run `make data` first")
@pytest.mark.skipif(CANNOT_EMULATE is not None,
                    reason=f"no emulated Raspberry Pi OS here: {CANNOT_EMULATE}")
def test_the_predictor_on_emulated_arm64_pi_os_agrees_with_the_host_without_tensorflow(
        small_export, tmp_path):
    report_path = tmp_path / "pi_arm64.md"
    result = run_front_end("benchmark/pi_check.py", f"--export_dir={small_export}",
                           "--models=model_int8.tflite", f"--root_dir={ROOT_DIR}",
                           f"--num_images={NUM_IMAGES}", f"--num_photos={NUM_PHOTOS}",
                           "--benchmark_runs=20", "--noarmv7l_wheels", f"--report={report_path}",
                           timeout=2400)
    inputs = NUM_IMAGES + NUM_PHOTOS
    assert f"small_export/model_int8.tflite: {inputs}/{inputs} same top-1" in result.stdout
    report = report_path.read_text()
    assert "Python 3.11" in report and "aarch64" in report
    assert re.search(r"\| ai-edge-litert \| 2\.\d+\.\d+ \|", report)
    assert "| fmnist_tf | 0.1.0 |" in report
    assert ("Importable in that venv: tensorflow no, keras no, tf_keras no, tensorboard no, "
            "ai_edge_litert yes") in report
    assert re.search(rf"\| small_export/model_int8\.tflite \| {inputs} \| {inputs} \(100\.0%\) \|",
                     report)
    assert "No input's top-1 class differs." in report
    assert "## Latency per image: EMULATED" in report
    assert re.search(r"\| [\d.]+ ms \(emulated\) \|", report)
    assert report.rstrip().endswith("Result: passed: no training stack in the device's venv, and "
                                    "no top-1 difference that is not a near tie.")


def test_a_root_without_its_build_record_is_not_taken_for_whole(tmp_path):
    """An interrupted build leaves ROOT.partial, never ROOT; a ROOT made otherwise, without the
    record that build_root writes into it before the rename, is refused rather than used."""
    (tmp_path / "root" / "usr" / "bin").mkdir(parents=True)
    with pytest.raises(RuntimeError, match=r"root exists but holds no \.fmnist_root_build\.json, "
                                           r"so it may be incomplete: remove it and run again"):
        pi_root.ensure_root(tmp_path / "root", tmp_path / "root.log")
