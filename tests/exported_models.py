"""A tiny trained convnet exported in every format, built once per test session, and helpers to run the edge.

``exported_tiny_model()`` -> paths of the tiny data, model_dir, export folder and report card; the export
runs through ``python -m fmnist_tf.export`` as a user runs it.
"""

import functools
import subprocess
import sys
import tempfile
from pathlib import Path

from idx_files import write_tiny_idx_dir

REPO = Path(__file__).resolve().parents[1]
TINY_TRAIN_STEPS = 10
REAL_TRAIN_STEPS = 300

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


def train_model_dir(model_dir, data_dir, steps, batch_size):
    """A convnet model_dir (flags.txt and a checkpoint) trained ``steps`` steps with Adam on ``data_dir``."""
    from fmnist_tf.data import make_dataset
    from fmnist_tf.estimator import Estimator
    from fmnist_tf.model_dir import write_flags_file
    from fmnist_tf.model_fn import make_model_fn

    write_flags_file(model_dir, {"dataset": "fashion_mnist", "data_dir": data_dir, "model": "convnet",
                                 "optimizer": "adam", "learning_rate": 0.001, "batch_size": batch_size,
                                 "seed": 1})
    classifier = Estimator(make_model_fn("convnet", "adam", 0.001, seed=1), model_dir=str(model_dir))
    classifier.train(lambda: make_dataset(data_dir, "train", batch_size=batch_size, source="memory",
                                          shuffle=True, repeat=True, seed=1), steps=steps)
    return model_dir


def train_tiny_model_dir(model_dir, data_dir):
    return train_model_dir(model_dir, data_dir, TINY_TRAIN_STEPS, batch_size=20)


def train_real_model_dir(model_dir, data_dir):
    """The convnet after a short real run: about 0.85 test accuracy, enough to show nothing is lost on export."""
    return train_model_dir(model_dir, data_dir, REAL_TRAIN_STEPS, batch_size=128)


@functools.cache
def exported_tiny_model():
    """Trains the tiny model and exports every format with a report card; returns the paths, by name."""
    root = Path(tempfile.mkdtemp(prefix="fmnist_export_"))
    data_dir = write_tiny_idx_dir(root / "data")
    model_dir = train_tiny_model_dir(root / "model", data_dir)
    export_dir, report_dir = root / "export", root / "report"
    result = subprocess.run(
        [sys.executable, "-m", "fmnist_tf.export", f"--model_dir={model_dir}", f"--export_dir={export_dir}",
         "--calibration_size=60", "--latency_runs=10", f"--report_dir={report_dir}", "--report_name=card",
         # 20 test images: one image is 5 points, so the tiny model is not held to the accuracy limit.
         "--max_accuracy_drop=100"],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"export failed:\n{result.stderr[-5000:]}")
    return {"root": root, "data_dir": Path(data_dir), "model_dir": model_dir, "export_dir": export_dir,
            "report_dir": report_dir, "stdout": result.stdout}


def keras_classes(model_dir, images):
    """The restored Keras model's top-1 classes of uint8 ``images`` [N, 28, 28, 1]."""
    import numpy as np

    from fmnist_tf.exporting import load_trained_model

    model = load_trained_model(str(model_dir)).model
    return np.argmax(model.predict(images, batch_size=500, verbose=0), axis=1)
