"""The Kaggle-style CSV (``label,pixel1,...,pixel784``, header optional): atomic writer, strict tf.data reader.

``write_csv(images, labels, "train.csv")``; ``csv_dataset("train.csv")`` yields (uint8 [28,28,1], int32 label).

How bad rows become a ``CsvFormatError``: errors raised inside a tf.data pipeline surface as
``tf.errors.InvalidArgumentError`` wherever the dataset is consumed (often inside a ``tf.function``),
without the file or line, and cannot be translated there. So ``validate_csv`` makes one pass over
the file *before* the dataset is returned, in tf.data: one RE2 match per row, vectorised over
batches, that accepts exactly ``[0-9](,<0-255>){784}`` (1.5-3 s for the 60,000-row file on 2 cores; a
pure-Python parse of its 47M values takes about 14 s). Only the first failing row is then
re-read in Python to name its line, column and expected value. The reading pipeline
(``tf.io.decode_csv`` without defaults) then only ever sees valid rows.
"""

import dataclasses
import os
import re

import numpy as np
import tensorflow as tf

from fmnist_tf.atomic import atomic_write
from fmnist_tf.data.catalog import IMAGE_HEIGHT, IMAGE_WIDTH, NUM_CLASSES
from fmnist_tf.data.errors import CsvFormatError, MissingFilesError

# Kaggle's names for the two splits of Fashion-MNIST; make_dataset(source="csv") looks for these.
CSV_FILE_NAMES = {"train": "fashion-mnist_train.csv", "test": "fashion-mnist_test.csv"}
NUM_PIXELS = IMAGE_HEIGHT * IMAGE_WIDTH
COLUMN_NAMES = ("label",) + tuple(f"pixel{number}" for number in range(1, NUM_PIXELS + 1))
HEADER = ",".join(COLUMN_NAMES)
MAX_PIXEL = 255
# Integers are plain decimal: no sign, spaces or leading zeros, as Kaggle's files have them.
_PIXEL_PATTERN = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_ROW_PATTERN = rf"[0-{NUM_CLASSES - 1}](?:,{_PIXEL_PATTERN}){{{NUM_PIXELS}}}"
_PLAIN_INTEGER = re.compile(r"0|[1-9][0-9]*")
_ROWS_PER_BATCH = 2048


def _field_bytes_table(last_field):
    """[256, 4] uint8: the ASCII of each value 0-255 and its separator, padded with zero bytes."""
    separator = "\n" if last_field else ","
    table = np.zeros((MAX_PIXEL + 1, 4), np.uint8)
    for value in range(MAX_PIXEL + 1):
        text = f"{value}{separator}".encode("ascii")
        table[value, :len(text)] = np.frombuffer(text, np.uint8)
    return table


# Formatting through lookup tables writes the 60,000-row file in about 2 s; str.join over its
# 47M values takes about 9 s.
_FIELD_BYTES = _field_bytes_table(last_field=False)
_LAST_FIELD_BYTES = _field_bytes_table(last_field=True)


def _rows_as_csv_bytes(rows):
    fields = _FIELD_BYTES[rows]
    fields[:, -1] = _LAST_FIELD_BYTES[rows[:, -1]]
    flat = fields.reshape(-1)
    return flat[flat != 0].tobytes()


def write_csv(images, labels, path, header=True):
    """Writes uint8 images [N,28,28] (or [N,28,28,1]) and labels 0-9 [N] as CSV, atomically."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.dtype != np.uint8 or images.ndim < 2 or images[0].size != NUM_PIXELS:
        raise ValueError(f"images must be uint8 [N,{IMAGE_HEIGHT},{IMAGE_WIDTH}]; "
                         f"got {images.dtype} {images.shape}")
    if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers of shape ({len(images)},); got {labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(f"labels must be 0-{NUM_CLASSES - 1}; got values {labels.min()}-{labels.max()}")
    rows = np.concatenate([labels.astype(np.uint8)[:, np.newaxis], images.reshape(len(images), NUM_PIXELS)],
                          axis=1)
    with atomic_write(path) as stream:
        if header:
            stream.write(f"{HEADER}\n".encode("ascii"))
        for start in range(0, len(rows), _ROWS_PER_BATCH):
            stream.write(_rows_as_csv_bytes(rows[start:start + _ROWS_PER_BATCH]))


def _read_line(path, line_number):
    """Line ``line_number`` (1-based) as tf.data's TextLineDataset sees it: split on \\n, one \\r dropped."""
    with open(path, "rb") as stream:
        for number, line in enumerate(stream, start=1):
            if number == line_number:
                return line.removesuffix(b"\n").removesuffix(b"\r").decode("utf-8", errors="replace")
    return ""


def _describe_bad_row(path, line_number):
    """Why line ``line_number`` is not a valid row, naming the column and the expected value."""
    fields = _read_line(path, line_number).split(",")
    where = f"{path}: line {line_number}"
    if len(fields) != len(COLUMN_NAMES):
        return f"{where} has {len(fields)} fields; expected {len(COLUMN_NAMES)} (label, pixel1..pixel{NUM_PIXELS})"
    for column, (name, value) in enumerate(zip(COLUMN_NAMES, fields), start=1):
        highest = NUM_CLASSES - 1 if column == 1 else MAX_PIXEL
        if not _PLAIN_INTEGER.fullmatch(value) or int(value) > highest:
            found = "empty" if value == "" else repr(value)
            return (f"{where}, column {column} ({name}) is {found}; expected an integer 0-{highest} "
                    f"(plain decimal digits)")
    return f"{where} is not a row of {len(COLUMN_NAMES)} integers"


def _count_header_lines(path):
    """1 if the file opens with the header, 0 if with a data row; anything else is an error."""
    first_line = _read_line(path, 1)
    if not first_line or first_line[:1].isdigit():
        return 0
    if first_line != HEADER:
        shown = first_line if len(first_line) <= 60 else first_line[:60] + "..."
        raise CsvFormatError(f"{path}: line 1 is {shown!r}; expected the header "
                             f"'label,pixel1,...,pixel{NUM_PIXELS}' or a data row")
    return 1


@dataclasses.dataclass(frozen=True)
class ValidatedCsv:
    """A CSV file whose every row has been checked; ``dataset()`` streams its examples."""

    path: str
    header_lines: int
    labels: np.ndarray  # uint8 [N], read during validation (the validation split needs them)

    def batches(self):
        """(uint8 [b,28,28,1], int32 [b]) in file order, b up to 2048."""
        required_integers = [tf.constant([], tf.int32)] * len(COLUMN_NAMES)  # no defaults: nothing silent

        def decode_rows(lines):
            columns = tf.stack(tf.io.decode_csv(lines, record_defaults=required_integers), axis=1)
            images = tf.reshape(tf.cast(columns[:, 1:], tf.uint8), [-1, IMAGE_HEIGHT, IMAGE_WIDTH, 1])
            return images, columns[:, 0]

        return (tf.data.TextLineDataset(self.path).skip(self.header_lines).batch(_ROWS_PER_BATCH)
                .map(decode_rows, num_parallel_calls=tf.data.AUTOTUNE))

    def dataset(self):
        """Unbatched (uint8 [28,28,1], int32 label), in file order."""
        return self.batches().unbatch()


def _check_rows(lines):
    """(is each line a valid row, its label or 0): in-graph, so a bad row raises nothing here."""
    valid = tf.strings.regex_full_match(lines, _ROW_PATTERN)
    labels = tf.strings.to_number(tf.where(valid, tf.strings.substr(lines, 0, 1), "0"), tf.int32)
    return valid, labels


def validate_csv(path):
    """Checks every row of ``path``; returns a ValidatedCsv or raises CsvFormatError at the first bad row."""
    if not os.path.isfile(path):
        raise MissingFilesError(f"{path}: no such file")
    header_lines = _count_header_lines(path)
    checks = (tf.data.TextLineDataset(path).skip(header_lines).batch(_ROWS_PER_BATCH)
              .map(_check_rows, num_parallel_calls=tf.data.AUTOTUNE))
    labels = []
    for valid, batch_labels in checks.as_numpy_iterator():
        if not valid.all():
            row = sum(map(len, labels)) + int(np.argmin(valid))
            raise CsvFormatError(_describe_bad_row(path, header_lines + row + 1))
        labels.append(batch_labels.astype(np.uint8))
    if not labels:
        raise CsvFormatError(f"{path}: no data rows after line {header_lines}; expected at least one "
                             f"row label,pixel1,...,pixel{NUM_PIXELS}")
    return ValidatedCsv(path, header_lines, np.concatenate(labels))


def csv_dataset(path):
    """Unbatched (uint8 [28,28,1], int32 label) streamed from a CSV file validated first (see module doc)."""
    return validate_csv(path).dataset()
