"""The IDX format of the MNIST-style ``.gz`` files, read strictly into numpy: every header field checked.

``images, labels = load_numpy("data/fashion", "train")``: uint8 [60000,28,28] and uint8 [60000].
"""

import contextlib
import dataclasses
import gzip
import math
import os
import struct
import zlib

import numpy as np

from fmnist_tf.data.catalog import FASHION_MNIST, IMAGE_HEIGHT, IMAGE_WIDTH, NUM_CLASSES, SPLITS
from fmnist_tf.data.errors import IdxFormatError, MissingFilesError

# The header: bytes 0-1 are zero (the magic number), byte 2 names the element type, byte 3 the
# number of dimensions, then one big-endian uint32 size per dimension.
MAGIC_ZERO_BYTES = b"\x00\x00"
DTYPE_CODE_OFFSET = 2
NUM_DIMS_OFFSET = 3
DIM_SIZES_OFFSET = 4
DIM_SIZE_BYTES = 4  # each size a big-endian uint32
DTYPE_CODE_UINT8 = 0x08  # the only element type of the MNIST-style files
IMAGE_NUM_DIMS = 3  # count, rows, columns
LABEL_NUM_DIMS = 1  # count
# Deflate cannot compress better than about 1032:1, so a .gz file of n bytes holds at most this
# many payload bytes per byte: a header claiming more is wrong, and is refused before any read.
MAX_DEFLATE_RATIO = 1032
_CHUNK_BYTES = 1 << 20
# What damaged gzip data raises besides EOFError (truncation): bad deflate data (zlib.error), a bad
# magic number or CRC (gzip.BadGzipFile, an OSError).
_GZIP_ERRORS = (zlib.error, OSError)


@dataclasses.dataclass(frozen=True)
class IdxHeader:
    """What an IDX header says: element type, shape, and where the payload starts."""

    dtype: np.dtype
    shape: tuple[int, ...]
    header_bytes: int

    @property
    def payload_bytes(self):
        return math.prod(self.shape) * self.dtype.itemsize


@contextlib.contextmanager
def _gzip_errors_named(path):
    """Turns the errors of a damaged gzip stream into an IdxFormatError that names the file."""
    try:
        yield
    except FileNotFoundError as error:
        raise MissingFilesError(f"{path}: no such file") from error
    except EOFError as error:
        raise IdxFormatError(f"{path}: the gzip stream is cut short (a truncated copy?); expected a complete "
                             f"gzip stream") from error
    except _GZIP_ERRORS as error:
        raise IdxFormatError(f"{path}: not valid gzip data ({error}); expected a gzip stream") from error


def _read_exactly(stream, num_bytes, path, what):
    data = stream.read(num_bytes)
    if len(data) != num_bytes:
        offset = stream.tell() - len(data)
        raise IdxFormatError(f"{path}: file ends at byte {offset + len(data)} inside the {what}; "
                             f"expected {num_bytes} bytes at offset {offset}")
    return data


def read_idx_header(path):
    """Reads and validates the header of a ``.gz`` IDX file of uint8 elements.

    Also refuses a header whose sizes could not fit in the file, so no reader allocates for them.
    """
    with _gzip_errors_named(path), gzip.open(path, "rb") as stream:
        start = _read_exactly(stream, DIM_SIZES_OFFSET, path, "IDX header")
        if start[:DTYPE_CODE_OFFSET] != MAGIC_ZERO_BYTES:
            raise IdxFormatError(f"{path}: bytes 0-1 (magic number) are 0x{start[:2].hex()}; "
                                 f"expected 0x{MAGIC_ZERO_BYTES.hex()}")
        if start[DTYPE_CODE_OFFSET] != DTYPE_CODE_UINT8:
            raise IdxFormatError(f"{path}: byte {DTYPE_CODE_OFFSET} (element type) is "
                                 f"0x{start[DTYPE_CODE_OFFSET]:02x}; expected 0x{DTYPE_CODE_UINT8:02x} (uint8)")
        num_dims = start[NUM_DIMS_OFFSET]
        if num_dims == 0:
            raise IdxFormatError(f"{path}: byte {NUM_DIMS_OFFSET} (number of dimensions) is 0; expected "
                                 f"{IMAGE_NUM_DIMS} (images) or {LABEL_NUM_DIMS} (labels)")
        sizes = _read_exactly(stream, DIM_SIZE_BYTES * num_dims, path, "dimension sizes")
    header = IdxHeader(np.dtype(np.uint8), struct.unpack(f">{num_dims}I", sizes),
                       DIM_SIZES_OFFSET + DIM_SIZE_BYTES * num_dims)
    most_bytes = os.path.getsize(path) * MAX_DEFLATE_RATIO
    if header.header_bytes + header.payload_bytes > most_bytes:
        raise IdxFormatError(f"{path}: header sizes {header.shape} need {header.payload_bytes} payload bytes; "
                             f"a {os.path.getsize(path)}-byte gzip file holds at most {most_bytes}")
    return header


def _check_num_dims(path, header, expected, kind, other_kind):
    if len(header.shape) != expected:
        raise IdxFormatError(f"{path}: byte {NUM_DIMS_OFFSET} (number of dimensions) is {len(header.shape)}; "
                             f"expected {expected} for {kind} (is this {other_kind} file?)")


def read_image_header(path):
    """The header of an images file, checked to be [count, 28, 28]."""
    header = read_idx_header(path)
    _check_num_dims(path, header, IMAGE_NUM_DIMS, "an images file", "a labels")
    for dim, expected in ((1, IMAGE_HEIGHT), (2, IMAGE_WIDTH)):
        if header.shape[dim] != expected:
            offset = DIM_SIZES_OFFSET + DIM_SIZE_BYTES * dim
            raise IdxFormatError(f"{path}: bytes {offset}-{offset + DIM_SIZE_BYTES - 1} (size of dimension {dim}) "
                                 f"are {header.shape[dim]}; expected {expected}")
    return header


def read_label_header(path):
    """The header of a labels file, checked to be [count]."""
    header = read_idx_header(path)
    _check_num_dims(path, header, LABEL_NUM_DIMS, "a labels file", "an images")
    return header


def _payload_size_error(path, header, found_bytes, more=False):
    found = f"more than {found_bytes}" if more else str(found_bytes)
    return IdxFormatError(f"{path}: payload after the {header.header_bytes}-byte header is {found} bytes; "
                          f"expected {header.payload_bytes} (shape {header.shape})")


def _payload_chunks(path, header):
    """Yields the payload in chunks, checking it has exactly the size the header says."""
    remaining = header.payload_bytes
    with _gzip_errors_named(path), gzip.open(path, "rb") as stream:
        stream.seek(header.header_bytes)
        while remaining:
            chunk = stream.read(min(remaining, _CHUNK_BYTES))
            if not chunk:
                raise _payload_size_error(path, header, header.payload_bytes - remaining)
            remaining -= len(chunk)
            yield chunk
        if stream.read(1):
            raise _payload_size_error(path, header, header.payload_bytes, more=True)


def check_payload_size(path, header):
    """Streams through the payload (constant memory) to check its size and the gzip stream's integrity."""
    for _ in _payload_chunks(path, header):
        pass


def _read_payload(path, header):
    # Growing a bytearray chunk by chunk: memory follows the bytes really there, not the header's claim.
    payload = bytearray()
    for chunk in _payload_chunks(path, header):
        payload += chunk
    return np.frombuffer(payload, dtype=header.dtype).reshape(header.shape)


def read_idx_images(path):
    """uint8 [N, 28, 28] from an IDX images file."""
    return _read_payload(path, read_image_header(path))


def read_idx_labels(path):
    """uint8 [N] from an IDX labels file, each checked to be a class index 0-9."""
    header = read_label_header(path)
    labels = _read_payload(path, header)
    out_of_range = np.flatnonzero(labels >= NUM_CLASSES)
    if out_of_range.size:
        index = int(out_of_range[0])
        raise IdxFormatError(f"{path}: label at index {index} (byte {header.header_bytes + index}) is "
                             f"{labels[index]}; expected 0-{NUM_CLASSES - 1}")
    return labels


def check_counts_match(images_path, num_images, labels_path, num_labels):
    if num_images != num_labels:
        raise IdxFormatError(f"{images_path} holds {num_images} images but {labels_path} holds {num_labels} "
                             f"labels (bytes 4-7 of each); expected the same count")


def split_file_paths(data_dir, split):
    """(images path, labels path) of ``split`` in ``data_dir``; MissingFilesError lists any absent."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    # Fashion-MNIST and MNIST name their files alike, so either catalog entry gives the names.
    paths = tuple(os.path.join(data_dir, FASHION_MNIST.file(split, kind).name) for kind in ("images", "labels"))
    missing = [path for path in paths if not os.path.isfile(path)]
    if missing:
        raise MissingFilesError(f"the {split} split is missing {len(missing)} file(s): {', '.join(missing)} "
                                f"(fetch them: python -m fmnist_tf.data.fetch --data_dir={data_dir})")
    return paths


def load_numpy(data_dir, split):
    """(images uint8 [N,28,28], labels uint8 [N]) of ``split`` ("train" or "test") in ``data_dir``."""
    images_path, labels_path = split_file_paths(data_dir, split)
    images, labels = read_idx_images(images_path), read_idx_labels(labels_path)
    check_counts_match(images_path, len(images), labels_path, len(labels))
    return images, labels
