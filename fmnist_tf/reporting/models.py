"""The model a report evaluates: a model_dir checkpoint, a ``.keras`` file or a ``.tflite`` file,
behind one face.

``model = load_evaluated_model("runs/convnet")``; ``model.logits(images)`` -> float32 [N, classes];
``model.keras_model`` is None for a ``.tflite`` file: LiteRT exposes neither its penultimate
features nor gradients.
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from fmnist_tf.exporting.litert import tflite_logits
from fmnist_tf.reporting.errors import ModelFileError
from fmnist_tf.safe_loading import load_keras_file, read_tflite_file
from fmnist_tf.training.trained_model import load_trained_model

KINDS = ("checkpoint", "keras", "tflite")


@dataclasses.dataclass(frozen=True)
class EvaluatedModel:
    kind: str  # one of KINDS
    source: str  # the model_dir or file, as given
    keras_model: object = None  # keras.Model, None for .tflite
    tflite_bytes: bytes = None
    global_step: int = None  # checkpoints only
    recipe: object = None  # fmnist_tf.training.Recipe of a model_dir's flags.txt; None for a file

    @property
    def description(self):
        if self.kind == "checkpoint":
            return f"{self.source} (checkpoint at global step {self.global_step})"
        return f"{self.source} ({self.kind} file)"

    def logits(self, images, batch_size=500):
        """float32 [N, classes] of uint8 ``images`` [N, 28, 28, 1], batch by batch with a progress
        bar."""
        outputs = []
        for start in tqdm(range(0, len(images), batch_size), desc="predicting", unit="batch"):
            batch = images[start:start + batch_size]
            if self.keras_model is None:
                outputs.append(tflite_logits(self.tflite_bytes, batch, batch_size=batch_size))
            else:
                outputs.append(np.asarray(self.keras_model(batch, training=False),
                                          dtype=np.float32))
        return np.concatenate(outputs)


def _restore_checkpoint(trained, checkpoint):
    """Replaces the latest checkpoint's weights by ``checkpoint``'s; returns that checkpoint's
    global step."""
    if not tf.io.gfile.exists(checkpoint + ".index"):
        raise ModelFileError(f"{checkpoint}.index does not exist; expected a checkpoint prefix "
                             f"such as {os.path.join(trained.model_dir, 'model.ckpt-1000')}")
    return trained.estimator.restore_checkpoint(checkpoint)


def load_evaluated_model(path, checkpoint=None):
    """A model_dir (its latest checkpoint, or ``checkpoint``), a ``.keras`` file or a ``.tflite``
    file.

    A file with a manifest.json beside it must match its SHA-256 (``DigestMismatchError``
    otherwise); a ``.keras`` file must pass ``fmnist_tf.safe_loading``'s checks before Keras
    rebuilds it.
    """
    if os.path.isdir(path):
        trained = load_trained_model(path)
        global_step = (trained.global_step if checkpoint is None
                       else _restore_checkpoint(trained, checkpoint))
        return EvaluatedModel("checkpoint", path, keras_model=trained.model,
                              global_step=global_step, recipe=trained.recipe)
    if checkpoint is not None:
        raise ModelFileError(f"a checkpoint ({checkpoint}) was given with the file {path}; "
                             "expected a model_dir with it")
    if path.endswith(".keras"):
        return EvaluatedModel("keras", path, keras_model=load_keras_file(path))
    if path.endswith(".tflite"):
        return EvaluatedModel("tflite", path, tflite_bytes=read_tflite_file(path))
    raise ModelFileError(f"{path} is neither a model_dir nor a file ending in .keras or .tflite")
