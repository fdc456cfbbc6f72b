"""Typed errors for bad input: each names the file, the position and what was expected."""


class DataError(ValueError):
    """Base class of every input problem the data layer reports."""


class IdxFormatError(DataError):
    """An IDX file whose header or payload is not what the format or the dataset requires."""


class CsvFormatError(DataError):
    """A CSV row that is not ``label,pixel1..pixel784`` with integers in range."""


class ChecksumError(DataError):
    """A file whose size or SHA-256 digest is not the one the dataset publishes."""


class MissingFilesError(DataError, FileNotFoundError):
    """One or more dataset files are absent; the message lists every missing one."""


class ImagenetLayoutError(DataError):
    """An ImageNet folder, label file or TFRecord set that is not laid out as ILSVRC2012 (or its
    shards) are."""
