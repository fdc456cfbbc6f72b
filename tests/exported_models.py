"""A briefly trained convnet, made once per test session as a user makes it, exported in every format.

``trained_model()`` runs ``python -m fmnist_tf.train`` (the smoke recipe, longer) on the real files;
``exported_model()`` then runs ``python -m fmnist_tf.export`` on it. Both return paths by name.
"""

import functools
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO / "data" / "fashion"
needs_real_data = pytest.mark.skipif(not (REAL_DATA / "t10k-images-idx3-ubyte.gz").exists(),
                                     reason="run `make data` first")
# 150 steps of 64 images, checkpoints at 75 and 150: about 0.8 test accuracy.
TRAIN_STEPS, BATCH_SIZE, FIRST_CHECKPOINT = 150, 64, 75
# The trainer's final test evaluation reads the smoke recipe's 5 batches.
TRAINER_TEST_EXAMPLES = 5 * BATCH_SIZE
REPORT_CARD_EXAMPLES = 2000

# Runs the edge predictor where TensorFlow (and the rest of the training stack) cannot be imported: the Pi.
_NO_TENSORFLOW = """
import importlib.abc, runpy, sys
BLOCKED = {"tensorflow", "keras", "tf_keras", "absl", "sklearn", "tensorflow_datasets", "tensorboard"}
class NoTrainingStack(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not installed on the device")
sys.meta_path.insert(0, NoTrainingStack())
sys.argv = ["fmnist_tf.edge.predict", *sys.argv[1:]]
runpy.run_module("fmnist_tf.edge.predict", run_name="__main__", alter_sys=True)
"""


def run_edge_predict(*args, timeout=300):
    """``python -m fmnist_tf.edge.predict ARGS`` in a subprocess where importing tensorflow fails."""
    return subprocess.run([sys.executable, "-c", _NO_TENSORFLOW, *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def run_front_end(module, *args, timeout=900):
    """``python -m MODULE ARGS`` from the repository root; a failure raises with its output."""
    result = subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=REPO, capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(map(str, args))} failed:\n{result.stderr[-5000:]}")
    return result


def table_value(stdout, row):
    """A row of the results table the train CLI prints."""
    match = re.search(rf"^\| {re.escape(row)} \| ([^|]+) \|$", stdout, re.MULTILINE)
    assert match, f"no '{row}' row in:\n{stdout}"
    return match.group(1).strip()


@functools.cache
def trained_model():
    """The train CLI's model_dir (checkpoints at steps 75 and 150) and the results table it printed."""
    model_dir = Path(tempfile.mkdtemp(prefix="fmnist_trained_")) / "model"
    result = run_front_end("fmnist_tf.train", "--config=convnet_smoke", f"--model_dir={model_dir}",
                           f"--data_dir={REAL_DATA}", f"--train_steps={TRAIN_STEPS}", f"--batch_size={BATCH_SIZE}",
                           f"--steps_per_eval={FIRST_CHECKPOINT}", f"--save_checkpoints_steps={FIRST_CHECKPOINT}",
                           "--steps_per_loop=25", "--save_summary_steps=25", "--seed=1", "--projector_examples=0")
    return {"model_dir": model_dir, "stdout": result.stdout}


@functools.cache
def exported_model():
    """``trained_model()`` exported in every format, with a report card on the first 2,000 test images."""
    model_dir = trained_model()["model_dir"]
    export_dir, report_dir = model_dir.parent / "export", model_dir.parent / "report"
    result = run_front_end("fmnist_tf.export", f"--model_dir={model_dir}", f"--export_dir={export_dir}",
                           f"--test_examples={REPORT_CARD_EXAMPLES}", "--calibration_size=300", "--latency_runs=10",
                           f"--report_dir={report_dir}", "--report_name=card")
    return {"data_dir": REAL_DATA, "model_dir": model_dir, "export_dir": export_dir, "report_dir": report_dir,
            "stdout": result.stdout}


def keras_classes(model_dir, images):
    """The restored Keras model's top-1 classes of uint8 ``images`` [N, 28, 28, 1]."""
    import numpy as np

    from fmnist_tf.training.trained_model import load_trained_model

    model = load_trained_model(str(model_dir)).model
    return np.argmax(model.predict(images, batch_size=500, verbose=0), axis=1)
