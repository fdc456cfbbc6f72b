"""Rebuilds a trained model from its model_dir: the model flags.txt names, restored from the latest checkpoint.

``trained = load_trained_model("runs/convnet")``; ``trained.model`` is the Keras model, ``trained.training_flags``
what flags.txt records, ``trained.class_names`` what its logits stand for.
"""

import dataclasses
import os

import tensorflow as tf

from fmnist_tf.data import dataset_class_names
from fmnist_tf.estimator import Estimator, latest_global_step
from fmnist_tf.exporting.errors import ModelDirError
from fmnist_tf.fine_tuning import FineTuning
from fmnist_tf.model_dir import FLAGS_FILE, parse_flags
from fmnist_tf.model_fn import make_model_fn, model_params

# What it takes to rebuild the model and its optimizer, whose slots the checkpoint holds too.
_REQUIRED_FLAGS = ("model", "optimizer", "learning_rate")


@dataclasses.dataclass(frozen=True)
class TrainedModel:
    model_dir: str
    estimator: Estimator
    training_flags: dict  # {name: text}, as flags.txt records them
    class_names: tuple = ()

    @property
    def model(self):
        return self.estimator.model

    @property
    def global_step(self):
        return self.estimator.global_step


def read_training_flags(model_dir):
    """``{name: text}`` from ``model_dir/flags.txt``, checked to name the model and its optimizer."""
    path = os.path.join(model_dir, FLAGS_FILE)
    if not os.path.isfile(path):
        raise ModelDirError(f"{path} does not exist; expected the model_dir of a `python -m fmnist_tf.train` run")
    with open(path, encoding="utf-8") as handle:
        training_flags = parse_flags(handle.read())
    missing = [name for name in _REQUIRED_FLAGS if name not in training_flags]
    if missing:
        raise ModelDirError(f"{path} lacks {', '.join('--' + name for name in missing)}; "
                            f"expected every one of {', '.join('--' + name for name in _REQUIRED_FLAGS)}")
    return training_flags


def _optional_int(training_flags, name):
    return int(training_flags[name]) if name in training_flags else None


def _fine_tuning(training_flags):
    """The transfer-learning schedule of the run, whose phase decides the checkpoint's optimizer; None if none."""
    if not _optional_int(training_flags, "freeze_backbone_steps"):
        return None
    return FineTuning(int(training_flags["freeze_backbone_steps"]), int(training_flags.get("unfreeze_blocks", 0)),
                      float(training_flags["fine_tune_learning_rate"]))


def load_trained_model(model_dir, data_dir=None):
    """The model of ``model_dir`` with the weights of its latest checkpoint.

    An ImageNet model counts its classes in the tree (or TFRecord manifest) in ``data_dir``, by default the
    --data_dir of flags.txt; a model trained from ImageNet weights rebuilds from its --weights_path file.
    """
    training_flags = read_training_flags(model_dir)
    if tf.train.latest_checkpoint(model_dir) is None:
        raise ModelDirError(f"{model_dir} holds no checkpoint; train first (python -m fmnist_tf.train "
                            f"--flagfile={os.path.join(model_dir, FLAGS_FILE)})")
    dataset = training_flags.get("dataset", "fashion_mnist")
    class_names = dataset_class_names(dataset, data_dir or training_flags.get("data_dir"),
                                      _optional_int(training_flags, "num_classes"),
                                      training_flags.get("imagenet_source", "jpeg"))
    params = model_params(dataset, len(class_names), _optional_int(training_flags, "image_size"),
                          training_flags.get("weights_path"))
    schedule = _fine_tuning(training_flags)
    # Only a fine-tuning schedule needs the step before the Estimator reads it (each read verifies the checkpoint).
    model_fn = make_model_fn(training_flags["model"], training_flags["optimizer"],
                             float(training_flags["learning_rate"]), fine_tuning=schedule,
                             initial_step=latest_global_step(model_dir) if schedule else 0)
    classifier = Estimator(model_fn, model_dir=model_dir, params=params)
    if not classifier.model.built:
        raise ModelDirError(f"model {training_flags['model']!r} declares no input, so its checkpoint cannot be "
                            "restored without data; expected a builder that starts with keras.Input")
    return TrainedModel(model_dir, classifier, training_flags, tuple(class_names))
