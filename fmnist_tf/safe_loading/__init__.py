"""Model files loaded without trusting them: ``.keras`` archives checked before Keras deserializes
anything, ``.tflite`` flatbuffers read as checked bytes, both held to the SHA-256 of the export's
manifest.json.

``model = load_keras_file("export/model.keras")``; ``model_bytes =
read_tflite_file("export/model_int8.tflite")``.
"""

from fmnist_tf.safe_loading.errors import (ArchiveFormatError, DecompressionBombError,
                                           DisallowedObjectError, ModelLoadError)
from fmnist_tf.safe_loading.keras_archive import ALLOWED_CLASSES, check_keras_archive
from fmnist_tf.safe_loading.loaders import load_keras_file, read_tflite_file

__all__ = [
    "ArchiveFormatError", "DecompressionBombError", "DisallowedObjectError", "ModelLoadError",
    "ALLOWED_CLASSES", "check_keras_archive",
    "load_keras_file", "read_tflite_file",
]
