"""Typed errors of the evaluation report: each names the file or folder and what was expected."""


class ReportError(ValueError):
    """Base class of every problem the evaluation report reports."""


class ModelFileError(ReportError):
    """A model file that is neither a ``.keras`` nor a ``.tflite`` file, or a checkpoint that is not
    there."""
