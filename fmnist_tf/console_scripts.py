"""The console scripts' entry points: each front end, or one line naming the extra it needs.

A device installs ``fmnist_tf[pi]``, which brings every console script but not the training stack;
there ``fmnist-train`` says which extra to install instead of ending in a traceback about ``absl``.
"""

import importlib
import os
import sys

# The top-level modules of the `train` extra that the front ends import.
TRAINING_STACK = {"absl", "tensorflow", "keras", "tensorboard", "sklearn", "matplotlib",
                  "tensorflow_datasets"}


def _launch(module_name):
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in TRAINING_STACK:
            raise
        sys.exit(f"{os.path.basename(sys.argv[0])} needs the train extra, which this environment "
                 "lacks: pip install 'fmnist_tf[train]'")
    module.run_main()


def fetch():
    _launch("fmnist_tf.fetch")


def train():
    _launch("fmnist_tf.train")


def evaluate():
    _launch("fmnist_tf.evaluate")


def export():
    _launch("fmnist_tf.export")
