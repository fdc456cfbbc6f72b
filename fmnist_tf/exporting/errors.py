"""Typed errors of the export: each names the folder or artifact and what was expected."""


class ExportError(ValueError):
    """Base class of every problem the export reports."""


class CalibrationRangeError(ExportError):
    """An INT8 model whose uint8 input does not take raw pixel bytes (scale 1, zero point 0)."""


class AccuracyDropError(ExportError):
    """An INT8 model that loses more top-1 accuracy against the Keras model than allowed."""
