"""Writes the export artifacts of a trained model into one folder, each under a temporary name, then renamed.

``export_artifacts(trained, "export", ["keras", "float32", "int8"], data_dir="data/fashion")`` returns one
``Artifact`` per format, with its path, SHA-256 and input/output description for the manifest.
"""

import dataclasses
import hashlib
import os

import numpy as np

from absl import logging

from fmnist_tf.atomic import atomic_output_path, atomic_write
from fmnist_tf.exporting import converters, litert
from fmnist_tf.exporting.calibration import PIXEL_MAX, PIXEL_MIN, calibration_images
from fmnist_tf.exporting.errors import CalibrationRangeError

_CHUNK_BYTES = 1 << 20


@dataclasses.dataclass(frozen=True)
class Artifact:
    format: str
    path: str  # relative to the export folder
    sha256: str  # of the file; of the sorted (path, digest) list for a folder
    num_bytes: int
    inputs: list  # [{"name", "dtype", "shape", ...}]
    outputs: list
    tflite_bytes: bytes | None = dataclasses.field(default=None, repr=False)  # the flatbuffer, for the report card

    def manifest_entry(self):
        entry = dataclasses.asdict(self)
        del entry["tflite_bytes"]
        return entry


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_tree(folder):
    """One digest for a folder: of the lines ``<file digest>  <relative path>`` of every file, sorted by path."""
    files = sorted(os.path.relpath(os.path.join(root, name), folder)
                   for root, _, names in os.walk(folder) for name in names)
    lines = "\n".join(f"{sha256_file(os.path.join(folder, path))}  {path}" for path in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def _tree_bytes(folder):
    return sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(folder) for name in names)


def _keras_io(model):
    def describe(tensors):
        return [{"name": tensor.name, "dtype": str(tensor.dtype), "shape": list(tensor.shape)} for tensor in tensors]

    return describe(model.inputs), describe(model.outputs)


def _write_saved_model(trained, export_dir):
    # The Estimator writes saved_model/<timestamp> under a temporary name and renames it: TF Serving's layout.
    path = trained.estimator.export_saved_model(os.path.join(export_dir, "saved_model"))
    inputs, _ = _keras_io(trained.model)
    # The serving signature's outputs, as Estimator.export_saved_model names them.
    outputs = [{"name": name} for name in ("classes", "probabilities", "logits")]
    return Artifact("saved_model", os.path.relpath(path, export_dir), sha256_tree(path), _tree_bytes(path),
                    inputs, outputs)


def _write_keras(trained, export_dir):
    path = os.path.join(export_dir, "model.keras")
    # Keras insists on the .keras suffix, so the temporary name keeps it.
    with atomic_output_path(path, suffix=".keras") as temporary_path:
        trained.model.save(temporary_path)
    inputs, outputs = _keras_io(trained.model)
    return Artifact("keras", "model.keras", sha256_file(path), os.path.getsize(path), inputs, outputs)


def _check_pixel_input(tflite_format, description):
    """An INT8 model's input must be the pixel bytes themselves: scale 1, zero point the type's minimum
    (0 for uint8; -128 for int8, which takes pixel - 128)."""
    if tflite_format not in converters.INT8_FORMATS:
        return
    model_input = description["inputs"][0]
    expected = (1.0, int(np.iinfo(model_input["dtype"]).min))
    if (model_input["scale"], model_input["zero_point"]) != expected:
        raise CalibrationRangeError(
            f"the {tflite_format} model's {model_input['dtype']} input has scale {model_input['scale']} and zero "
            f"point {model_input['zero_point']}; expected {expected[0]} and {expected[1]} "
            f"(pixel values {PIXEL_MIN}-{PIXEL_MAX} one to one)")


def _write_tflite(trained, export_dir, tflite_format, calibration, int8_output_type):
    model_bytes = converters.convert_to_tflite(trained.model, tflite_format, calibration, int8_output_type)
    description = litert.describe_tflite(model_bytes)
    _check_pixel_input(tflite_format, description)
    name = f"model_{tflite_format}.tflite"
    with atomic_write(os.path.join(export_dir, name)) as stream:
        stream.write(model_bytes)
    return Artifact(tflite_format, name, hashlib.sha256(model_bytes).hexdigest(), len(model_bytes),
                    description["inputs"], description["outputs"], model_bytes)


def export_artifacts(trained, export_dir, formats, data_dir=None, calibration_size=1000, calibration_seed=0,
                     int8_output_type="uint8"):
    """Writes ``formats`` (of ``converters.FORMATS``) of ``trained`` into ``export_dir``; returns the Artifacts.

    The int8 formats calibrate on ``calibration_size`` training images of ``data_dir`` drawn with ``calibration_seed``.
    """
    unknown = sorted(set(formats) - set(converters.FORMATS))
    if unknown:
        raise ValueError(f"unknown export formats {unknown}; expected some of {converters.FORMATS}")
    os.makedirs(export_dir, exist_ok=True)
    calibration = None
    if set(formats) & set(converters.INT8_FORMATS):
        calibration = calibration_images(data_dir, calibration_size, calibration_seed)
    artifacts = []
    for export_format in formats:
        if export_format == "saved_model":
            artifact = _write_saved_model(trained, export_dir)
        elif export_format == "keras":
            artifact = _write_keras(trained, export_dir)
        else:
            artifact = _write_tflite(trained, export_dir, export_format, calibration, int8_output_type)
        logging.info("%s: %s (%d bytes, sha256 %s)", export_format, artifact.path, artifact.num_bytes, artifact.sha256)
        artifacts.append(artifact)
    return artifacts
