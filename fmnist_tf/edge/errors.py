"""Typed errors of the device side: each names the file, the position or field, and what was
expected."""


class EdgeError(ValueError):
    """Base class of every problem the edge predictor reports."""


class ModelFileError(EdgeError):
    """A model file that is not a TFLite flatbuffer, or one that does not verify (truncated,
    corrupt)."""


class FileSizeError(EdgeError):
    """A model file that is not a regular file, or is larger than any model this project makes."""


class ModelInputError(EdgeError):
    """A model whose input is not a 28x28 grayscale image of a type the predictor can feed."""


class ManifestError(EdgeError):
    """A model that does not match the manifest.json beside it, or a manifest that cannot be
    read."""


class DigestMismatchError(ManifestError):
    """A file whose SHA-256 is not the one its manifest.json records: changed or damaged since the
    export."""


class ImageFileError(EdgeError):
    """An image or IDX file that cannot be read as what the model takes."""


class InterpreterMissingError(ImportError):
    """Neither ai-edge-litert nor tflite-runtime is installed."""
