"""The IDX format of the MNIST-style files, read strictly into numpy (every header field checked) and written.

``images, labels = load_numpy("data/fashion", "train")``: uint8 [60000,28,28] and uint8 [60000].
``write_idx("x.gz", array)`` and ``read_idx_array("x.gz")`` handle any IDX element type and shape, gzip or not.
"""

import contextlib
import dataclasses
import gzip
import math
import os
import struct
import zlib

import numpy as np

from fmnist_tf.atomic import atomic_write
from fmnist_tf.data.catalog import FASHION_MNIST, IMAGE_HEIGHT, IMAGE_WIDTH, NUM_CLASSES, SPLITS
from fmnist_tf.data.errors import IdxFormatError, MissingFilesError

# The header: bytes 0-1 are zero (the magic number), byte 2 names the element type, byte 3 the
# number of dimensions, then one big-endian uint32 size per dimension.
MAGIC_ZERO_BYTES = b"\x00\x00"
DTYPE_CODE_OFFSET = 2
NUM_DIMS_OFFSET = 3
DIM_SIZES_OFFSET = 4
DIM_SIZE_BYTES = 4  # each size a big-endian uint32
MAX_DIM_SIZE = 2**32 - 1
# The element types the format defines, each stored big-endian.
ELEMENT_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
                 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
DTYPE_CODE_UINT8 = 0x08  # the only element type of the MNIST-style files
# numpy 1.x holds at most 32 dimensions; the files in use have 1 to 4.
MAX_NUM_DIMS = 32
IMAGE_NUM_DIMS = 3  # count, rows, columns
LABEL_NUM_DIMS = 1  # count
# A file starting with these bytes is gzip-compressed; an IDX file starts with the zero bytes above.
GZIP_MAGIC = b"\x1f\x8b"
# Deflate cannot compress better than about 1032:1, so a .gz file of n bytes holds at most this
# many payload bytes per byte: a header claiming more is wrong, and is refused before any read.
MAX_DEFLATE_RATIO = 1032
_CHUNK_BYTES = 1 << 20
# What damaged gzip data raises besides EOFError (truncation): bad deflate data (zlib.error), a bad
# magic number or CRC (gzip.BadGzipFile, an OSError).
_GZIP_ERRORS = (zlib.error, OSError)


@dataclasses.dataclass(frozen=True)
class IdxHeader:
    """What an IDX header says: element type, shape, where the payload starts, and whether the file is gzip."""

    dtype_code: int
    shape: tuple[int, ...]
    header_bytes: int
    compressed: bool

    @property
    def dtype(self):
        return ELEMENT_TYPES[self.dtype_code]

    @property
    def payload_bytes(self):
        return math.prod(self.shape) * self.dtype.itemsize


@contextlib.contextmanager
def _open_idx(path):
    """Yields (a binary stream of the IDX bytes, whether the file is gzip); errors name the file."""
    try:
        with open(path, "rb") as stream:
            compressed = stream.read(len(GZIP_MAGIC)) == GZIP_MAGIC
            stream.seek(0)
            with gzip.GzipFile(fileobj=stream, mode="rb") if compressed else contextlib.nullcontext(stream) as data:
                yield data, compressed
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


def _element_type_names():
    return ", ".join(f"0x{code:02x} ({dtype.name})" for code, dtype in ELEMENT_TYPES.items())


def _check_sizes_fit(path, header):
    """Refuses sizes that could not fit in the file (so no reader allocates for them) or in a numpy array."""
    file_bytes = os.path.getsize(path)
    most_bytes = file_bytes * (MAX_DEFLATE_RATIO if header.compressed else 1)
    if header.header_bytes + header.payload_bytes > most_bytes:
        kind = "gzip file" if header.compressed else "file"
        raise IdxFormatError(f"{path}: header sizes {header.shape} need {header.payload_bytes} payload bytes; "
                             f"a {file_bytes}-byte {kind} holds at most {most_bytes}")
    # An empty array may still have huge other sizes, which numpy refuses to reshape to.
    nonzero_bytes = math.prod(size for size in header.shape if size) * header.dtype.itemsize
    if nonzero_bytes > np.iinfo(np.intp).max:
        raise IdxFormatError(f"{path}: header sizes {header.shape} describe an empty array too large to index; "
                             f"expected sizes whose product is below {np.iinfo(np.intp).max}")


def read_idx_header(path):
    """Reads and validates the header of an IDX file, gzip-compressed or not, of any element type.

    Also refuses a header whose sizes could not fit in the file, so no reader allocates for them.
    """
    with _open_idx(path) as (stream, compressed):
        start = _read_exactly(stream, DIM_SIZES_OFFSET, path, "IDX header")
        if start[:DTYPE_CODE_OFFSET] != MAGIC_ZERO_BYTES:
            raise IdxFormatError(f"{path}: bytes 0-1 (magic number) are 0x{start[:2].hex()}; "
                                 f"expected 0x{MAGIC_ZERO_BYTES.hex()} (or 0x{GZIP_MAGIC.hex()}, a gzip stream)")
        dtype_code = start[DTYPE_CODE_OFFSET]
        if dtype_code not in ELEMENT_TYPES:
            raise IdxFormatError(f"{path}: byte {DTYPE_CODE_OFFSET} (element type) is 0x{dtype_code:02x}; "
                                 f"expected one of {_element_type_names()}")
        num_dims = start[NUM_DIMS_OFFSET]
        if not 1 <= num_dims <= MAX_NUM_DIMS:
            raise IdxFormatError(f"{path}: byte {NUM_DIMS_OFFSET} (number of dimensions) is {num_dims}; expected "
                                 f"1-{MAX_NUM_DIMS}: {IMAGE_NUM_DIMS} for images, {LABEL_NUM_DIMS} for labels")
        sizes = _read_exactly(stream, DIM_SIZE_BYTES * num_dims, path, "dimension sizes")
    header = IdxHeader(dtype_code, struct.unpack(f">{num_dims}I", sizes), DIM_SIZES_OFFSET + DIM_SIZE_BYTES * num_dims,
                       compressed)
    _check_sizes_fit(path, header)
    return header


def _check_dataset_header(path, header, num_dims, kind, other_kind):
    """The MNIST-style files hold uint8 elements, and the number of dimensions tells images from labels."""
    if header.dtype_code != DTYPE_CODE_UINT8:
        raise IdxFormatError(f"{path}: byte {DTYPE_CODE_OFFSET} (element type) is 0x{header.dtype_code:02x}; "
                             f"expected 0x{DTYPE_CODE_UINT8:02x} (uint8)")
    if len(header.shape) != num_dims:
        raise IdxFormatError(f"{path}: byte {NUM_DIMS_OFFSET} (number of dimensions) is {len(header.shape)}; "
                             f"expected {num_dims} for {kind} (is this {other_kind} file?)")


def read_image_header(path):
    """The header of an images file, checked to be uint8 [count, 28, 28]."""
    header = read_idx_header(path)
    _check_dataset_header(path, header, IMAGE_NUM_DIMS, "an images file", "a labels")
    for dim, expected in ((1, IMAGE_HEIGHT), (2, IMAGE_WIDTH)):
        if header.shape[dim] != expected:
            offset = DIM_SIZES_OFFSET + DIM_SIZE_BYTES * dim
            raise IdxFormatError(f"{path}: bytes {offset}-{offset + DIM_SIZE_BYTES - 1} (size of dimension {dim}) "
                                 f"are {header.shape[dim]}; expected {expected}")
    return header


def read_label_header(path):
    """The header of a labels file, checked to be uint8 [count]."""
    header = read_idx_header(path)
    _check_dataset_header(path, header, LABEL_NUM_DIMS, "a labels file", "an images")
    return header


def _payload_size_error(path, header, found_bytes, more=False):
    found = f"more than {found_bytes}" if more else str(found_bytes)
    return IdxFormatError(f"{path}: payload after the {header.header_bytes}-byte header is {found} bytes; "
                          f"expected {header.payload_bytes} (shape {header.shape})")


def _payload_chunks(path, header):
    """Yields the payload in chunks, checking it has exactly the size the header says."""
    remaining = header.payload_bytes
    with _open_idx(path) as (stream, _):
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
    array = np.frombuffer(payload, dtype=header.dtype).reshape(header.shape)
    return array.astype(header.dtype.newbyteorder("="), copy=False)


def read_idx_array(path):
    """The array an IDX file holds, any element type and shape, in native byte order."""
    return _read_payload(path, read_idx_header(path))


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


def encode_idx(array):
    """The IDX bytes of ``array``: header, then the elements big-endian; ValueError if IDX cannot hold it."""
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in ELEMENT_TYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"IDX holds elements of {', '.join(sorted(str(dtype) for dtype in codes))}; "
                         f"got {array.dtype}")
    if not 1 <= array.ndim <= MAX_NUM_DIMS or max(array.shape) > MAX_DIM_SIZE:
        raise ValueError(f"IDX holds 1-{MAX_NUM_DIMS} dimensions of at most {MAX_DIM_SIZE} each; "
                         f"got shape {array.shape}")
    header = MAGIC_ZERO_BYTES + bytes([code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=ELEMENT_TYPES[code]).tobytes()


def write_idx(path, array, compress=True):
    """Writes ``array`` as an IDX file, gzip-compressed (fixed timestamp: same array, same bytes) or not, atomically."""
    encoded = encode_idx(array)
    with atomic_write(path) as stream:
        stream.write(gzip.compress(encoded, mtime=0) if compress else encoded)


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
                                f"(fetch them: python -m fmnist_tf.fetch --data_dir={data_dir})")
    return paths


def load_numpy(data_dir, split, max_examples=0):
    """(images uint8 [N,28,28], labels uint8 [N]) of ``split`` ("train" or "test") in ``data_dir``.

    ``max_examples``: only the first so many (0: all), for a quick look at a large split.
    """
    images_path, labels_path = split_file_paths(data_dir, split)
    images, labels = read_idx_images(images_path), read_idx_labels(labels_path)
    check_counts_match(images_path, len(images), labels_path, len(labels))
    if max_examples:
        return images[:max_examples], labels[:max_examples]
    return images, labels
