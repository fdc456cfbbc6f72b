"""A TFLite classifier on the device: bytes read and verified, checked against its manifest, its input checked.

``model = load_edge_model("model_int8.tflite")``; ``model.probabilities(pixels)`` takes uint8 [N, 28, 28]
pixels (the item light on dark) and returns float32 [N, classes].
"""

import os
import stat
import sys

import numpy as np

from fmnist_tf.edge import manifest as manifest_checks
from fmnist_tf.edge.class_names import FASHION_MNIST_CLASS_NAMES
from fmnist_tf.edge.errors import (FileSizeError, InterpreterMissingError, ManifestError, ModelFileError,
                                   ModelInputError)

IMAGE_SHAPE = (28, 28, 1)
# A TFLite flatbuffer starts with the offset of its root table (uint32, little-endian), then its file
# identifier at bytes 4-7.
FLATBUFFER_IDENTIFIER = b"TFL3"
IDENTIFIER_OFFSET = 4
FLATBUFFER_HEADER_BYTES = 8
# Far above the largest model here (WRN-28-10 in float32, about 150 MB): a file past it is refused unread.
MAX_MODEL_BYTES = 1 << 30
INPUT_DTYPES = ("uint8", "int8", "float32")


# What `make pi-check` found on PyPI (benchmark/results/pi_arm64.md): the device OS it checks, and
# why not 32-bit.
MISSING_INTERPRETER_HELP = (
    "no TFLite interpreter is installed: `pip install ai-edge-litert` (what `pip install "
    "fmnist_tf[pi]` brings) or `pip install tflite-runtime` (the older interpreter, also used). "
    "The supported device OS is Raspberry Pi OS (64-bit): Python 3.11 on aarch64. 32-bit "
    "Raspberry Pi OS is not supported: ai-edge-litert has no 32-bit ARM wheel, tflite-runtime's "
    "last ones (2.13.0) are for Python 3.9 and 3.10 only, and PyPI has no 32-bit ARM numpy or "
    "Pillow; install Raspberry Pi OS (64-bit) instead")


def interpreter_class():
    """ai-edge-litert's Interpreter, else tflite-runtime's (for a Python ai-edge-litert lacks)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
        return Interpreter
    except ImportError as litert_error:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise InterpreterMissingError(MISSING_INTERPRETER_HELP) from litert_error
        print(f"note: ai-edge-litert cannot be imported ({litert_error}); using tflite_runtime instead",
              file=sys.stderr)
        return Interpreter


def _check_size(path, size, max_bytes):
    if size > max_bytes:
        raise FileSizeError(f"{path}: {size} bytes; expected at most {max_bytes}, more than any model of fmnist_tf")


def read_bounded(path, max_bytes=MAX_MODEL_BYTES):
    """The bytes of ``path``, a regular file of at most ``max_bytes``: a device, a FIFO or a huge file is refused
    before it is read."""
    # O_NONBLOCK: opening a FIFO would otherwise wait for a writer before the check below could refuse it.
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as stream:
        status = os.fstat(stream.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise FileSizeError(f"{path}: not a regular file; expected a model file")
        _check_size(path, status.st_size, max_bytes)
        file_bytes = stream.read(max_bytes + 1)
    _check_size(path, len(file_bytes), max_bytes)  # it may have grown since fstat
    return file_bytes


def check_flatbuffer_header(path, model_bytes):
    """The TFLite identifier at bytes 4-7 and a root table inside the file, checked before native code parses it."""
    identifier = model_bytes[IDENTIFIER_OFFSET:IDENTIFIER_OFFSET + len(FLATBUFFER_IDENTIFIER)]
    if identifier != FLATBUFFER_IDENTIFIER:
        raise ModelFileError(f"{path}: bytes {IDENTIFIER_OFFSET}-{IDENTIFIER_OFFSET + 3} are {identifier!r} "
                             f"({len(model_bytes)}-byte file); expected {FLATBUFFER_IDENTIFIER!r}, the identifier "
                             "of a TFLite flatbuffer (is this a .tflite file?)")
    root_offset = int.from_bytes(model_bytes[:4], "little")
    if not FLATBUFFER_HEADER_BYTES <= root_offset < len(model_bytes):
        raise ModelFileError(f"{path}: bytes 0-3 put the root table at offset {root_offset}; expected "
                             f"{FLATBUFFER_HEADER_BYTES} to {len(model_bytes) - 1}, inside the {len(model_bytes)}-byte "
                             "file (truncated or corrupt?)")


def read_model_bytes(path):
    """The file's bytes, checked to be a TFLite flatbuffer of a sane size: the interpreter gets bytes, never a path."""
    model_bytes = read_bounded(path)
    check_flatbuffer_header(path, model_bytes)
    return model_bytes


def describe_tensor(detail):
    scale, zero_point = detail["quantization"]
    return {"dtype": np.dtype(detail["dtype"]).name,
            "shape_signature": [int(size) for size in detail["shape_signature"]],
            "scale": float(scale), "zero_point": int(zero_point)}


def check_model_tensors(path, interpreter):
    """One input of [batch, 28, 28, 1] of a type we can feed, one output of [batch, classes]."""
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelInputError(f"{path}: {len(inputs)} input(s) and {len(outputs)} output(s); expected 1 image "
                              "input and 1 output of class scores")
    model_input, model_output = describe_tensor(inputs[0]), describe_tensor(outputs[0])
    shape = model_input["shape_signature"]
    if len(shape) != 4 or shape[0] not in (-1, 1) or tuple(shape[1:]) != IMAGE_SHAPE:
        raise ModelInputError(f"{path}: input shape is {shape}; expected [1, {', '.join(map(str, IMAGE_SHAPE))}] "
                              "(a batch of 28x28 grayscale images; -1 for a batch of any size)")
    if model_input["dtype"] not in INPUT_DTYPES:
        raise ModelInputError(f"{path}: input type is {model_input['dtype']}; expected one of {INPUT_DTYPES}")
    if len(model_output["shape_signature"]) != 2:
        raise ModelInputError(f"{path}: output shape is {model_output['shape_signature']}; expected [batch, classes]")
    return model_input, model_output


class EdgeModel:
    """A verified interpreter, with the quantization of its input and output and the class names."""

    def __init__(self, path, interpreter, class_names):
        self.path = path
        self.class_names = tuple(class_names)
        self._interpreter = interpreter
        self._input = interpreter.get_input_details()[0]
        self._output = interpreter.get_output_details()[0]

    @property
    def input_dtype(self):
        return np.dtype(self._input["dtype"]).name

    def _model_input(self, pixels):
        """uint8 [28, 28] pixels 0-255 as the input tensor takes them, quantized if it is quantized."""
        if pixels.shape != IMAGE_SHAPE[:2] or pixels.dtype != np.uint8:
            raise ValueError(f"pixels are {pixels.dtype} {list(pixels.shape)}; expected uint8 {list(IMAGE_SHAPE[:2])}")
        dtype = np.dtype(self._input["dtype"])
        values = pixels.reshape(1, *IMAGE_SHAPE)
        if dtype.kind == "f":
            return values.astype(dtype)
        scale, zero_point = self._input["quantization"]
        if scale:
            values = np.round(values.astype(np.float32) / scale) + zero_point
        limits = np.iinfo(dtype)
        return np.clip(values, limits.min, limits.max).astype(dtype)

    def logits_of_one(self, pixels):
        """float32 [classes] of one uint8 [28, 28] image: quantize, invoke, dequantize."""
        self._interpreter.set_tensor(self._input["index"], self._model_input(pixels))
        try:
            self._interpreter.invoke()
        except RuntimeError as error:  # a corrupt model can verify and allocate, then fail in a kernel
            raise ModelFileError(f"{self.path}: the TFLite interpreter fails to run this model (corrupt?): "
                                 f"{error}") from None
        values = self._interpreter.get_tensor(self._output["index"])[0]
        scale, zero_point = self._output["quantization"]
        if scale:
            return (values.astype(np.float32) - zero_point) * scale
        return values.astype(np.float32)

    def probabilities(self, pixels):
        """float32 [N, classes] softmax probabilities of uint8 [N, 28, 28] images, one invoke each."""
        logits = np.stack([self.logits_of_one(image) for image in pixels]) if len(pixels) else np.zeros(
            (0, len(self.class_names)), np.float32)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)


def load_edge_model(path, manifest_path="beside", num_threads=None):
    """Reads, verifies and checks the model at ``path``; ``manifest_path`` is a path, "beside" (the model's
    folder, if one is there) or None (no check)."""
    model_bytes = read_model_bytes(path)
    match = manifest_checks.match_manifest(path, model_bytes, manifest_path)
    class_names = match.manifest["class_names"] if match else FASHION_MNIST_CLASS_NAMES
    try:
        # model_content: the bytes pass the flatbuffer verifier; model_path would skip it.
        interpreter = interpreter_class()(model_content=model_bytes, num_threads=num_threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as error:
        raise ModelFileError(f"{path}: the TFLite interpreter refuses this {len(model_bytes)}-byte model "
                             f"(truncated or corrupt?): {error}") from None
    model_input, model_output = check_model_tensors(path, interpreter)
    if match:
        manifest_checks.check_tensors(match, model_input, model_output, path)
    num_classes = model_output["shape_signature"][-1]
    if num_classes != len(class_names):
        raise ManifestError(f"{path}: the output has {num_classes} classes; expected {len(class_names)} "
                            f"({'the manifest' if match else 'Fashion-MNIST'} names {len(class_names)})")
    return EdgeModel(os.fspath(path), interpreter, class_names)
