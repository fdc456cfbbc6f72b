"""Loads a model file only after it is checked: the exact bytes checked are the bytes loaded.

``model = load_keras_file("export/model.keras")``: SHA-256 against the manifest.json beside it (if
any), the zip directory and config.json against ``keras_archive``'s limits and allowlist, then Keras
with safe_mode and no compilation. ``model_bytes = read_tflite_file("export/model_int8.tflite")``:
size, flatbuffer header and digest checked; the LiteRT interpreter then takes the bytes
(``model_content``), whose loader runs the flatbuffer verifier.
"""

import os
import tempfile

import keras

# registers fmnist_tf's own layers with Keras before a model is rebuilt
import fmnist_tf.models  # noqa: F401
from fmnist_tf.edge import manifest as manifest_checks
from fmnist_tf.edge.model import read_bounded, read_model_bytes
from fmnist_tf.safe_loading.keras_archive import check_keras_archive

# What a user does to load a file that sits beside a manifest.json that does not list it.
SKIP_CHECK_HINT = "copy the file to a folder without a manifest.json to load it unchecked"


def read_tflite_file(path, manifest_path="beside"):
    """The verified bytes of a ``.tflite`` file; ``manifest_path``: a path, "beside" or None (no
    digest check)."""
    model_bytes = read_model_bytes(path)
    manifest_checks.match_manifest(path, model_bytes, manifest_path, SKIP_CHECK_HINT)
    return model_bytes


def load_keras_file(path, manifest_path="beside"):
    """The uncompiled ``keras.Model`` of a ``.keras`` file that passes every check;
    ``manifest_path`` as above."""
    archive_bytes = read_bounded(path)
    manifest_checks.match_manifest(path, archive_bytes, manifest_path, SKIP_CHECK_HINT)
    check_keras_archive(path, archive_bytes)
    # Keras loads from a path: give it a private copy of the checked bytes, so a file swapped after
    # the check is never what gets loaded.
    with tempfile.TemporaryDirectory(prefix="fmnist_tf_checked_") as folder:
        checked_path = os.path.join(folder, "model.keras")
        with open(checked_path, "xb") as stream:
            stream.write(archive_bytes)
        return keras.saving.load_model(checked_path, compile=False, safe_mode=True)
