"""A SavedModel of a Keras model with a ``serving_default`` signature, published whole under a fresh
timestamp."""

import os
import tempfile
import time

import tensorflow as tf
from absl import logging

from fmnist_tf.estimator import loops


def write_saved_model(model, input_spec, export_dir_base, is_chief):
    """Writes ``<export_dir_base>/<timestamp>`` and returns it; a non-chief worker saves, keeps
    nothing.

    The signature takes ``input_spec`` and returns ``classes``, ``probabilities`` and ``logits``.
    """
    serving_module = tf.Module()
    serving_module.model = model

    @tf.function(input_signature=[input_spec])
    def serve(features):
        return loops.predictions_from_logits(model(features, training=False))

    signatures = {"serving_default": serve}
    if not is_chief:
        # A non-chief worker takes part in the save, as in checkpoints, and keeps nothing.
        with tempfile.TemporaryDirectory(prefix="fmnist_tf_worker_export_") as scratch:
            tf.saved_model.save(serving_module, scratch, signatures=signatures)
        return None
    os.makedirs(export_dir_base, exist_ok=True)
    timestamp = int(time.time())
    while os.path.exists(os.path.join(export_dir_base, str(timestamp))):
        timestamp += 1
    export_dir = os.path.join(export_dir_base, str(timestamp))
    # Written under a temporary name and renamed, so no reader ever sees half an export.
    temporary_dir = tempfile.mkdtemp(prefix=f"temp-{timestamp}-", dir=export_dir_base)
    tf.saved_model.save(serving_module, temporary_dir, signatures=signatures)
    os.replace(temporary_dir, export_dir)
    logging.info("SavedModel written to: %s", export_dir)
    return export_dir
