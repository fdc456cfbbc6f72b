"""Exporting a trained model_dir for serving and for the edge: SavedModel, .keras, TFLite float and
quantized.

``export_artifacts(load_trained_model("runs/convnet"), "export", FORMATS,
data_dir="data/fashion")``, then ``make_report_card(...)`` and ``write_manifest(...)``; ``python -m
fmnist_tf.export`` does all three.
"""

from fmnist_tf.exporting.artifacts import Artifact, export_artifacts
from fmnist_tf.exporting.calibration import calibration_images
from fmnist_tf.exporting.converters import (FORMATS, INT8_FORMATS, OUTPUT_TYPES, TFLITE_FORMATS,
                                            convert_to_tflite)
from fmnist_tf.exporting.errors import AccuracyDropError, CalibrationRangeError, ExportError
from fmnist_tf.exporting.manifest import MANIFEST_FILE, write_manifest
from fmnist_tf.exporting.report_card import (check_int8_accuracy_drop, make_report_card,
                                             write_report_card)

__all__ = [
    "Artifact", "export_artifacts",
    "calibration_images",
    "FORMATS", "INT8_FORMATS", "OUTPUT_TYPES", "TFLITE_FORMATS", "convert_to_tflite",
    "AccuracyDropError", "CalibrationRangeError", "ExportError",
    "MANIFEST_FILE", "write_manifest",
    "check_int8_accuracy_drop", "make_report_card", "write_report_card",
]
