"""The strict IDX reader and the writer: what they return, how every kind of bad file is named, and fuzzed inputs."""

import contextlib
import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fmnist_tf.data import IdxFormatError, MissingFilesError, idx, load_numpy
from fmnist_tf.data import read_idx_array, read_idx_header, read_idx_images, read_idx_labels, write_idx
from idx_files import idx_bytes, tiny_examples, write_gz
from mutations import PARSER_PROPERTY, mutated

IMAGES, LABELS = tiny_examples(12, seed=3)


@pytest.fixture
def images_path(tmp_path):
    return write_gz(tmp_path / "images.gz", idx_bytes(IMAGES))


@pytest.fixture
def labels_path(tmp_path):
    return write_gz(tmp_path / "labels.gz", idx_bytes(LABELS))


def test_load_numpy_returns_the_examples_written(tiny_idx_dir):
    images, labels = load_numpy(tiny_idx_dir, "train")
    expected_images, expected_labels = tiny_examples(60, seed=0)
    assert images.dtype == np.uint8 and images.shape == (60, 28, 28)
    assert labels.dtype == np.uint8 and labels.shape == (60,)
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)
    assert sorted(set(labels.tolist())) == list(range(10))


def test_read_idx_header_names_the_element_type_shape_and_header_size(images_path, labels_path):
    images_header = read_idx_header(images_path)
    assert (images_header.dtype, images_header.shape, images_header.header_bytes) == (np.uint8, (12, 28, 28), 16)
    assert images_header.payload_bytes == 12 * 28 * 28
    assert read_idx_header(labels_path).shape == (12,)
    assert read_idx_header(labels_path).header_bytes == 8


def test_wrong_magic_number_names_the_file_and_expected_bytes(tmp_path):
    path = write_gz(tmp_path / "images.gz", idx_bytes(IMAGES, magic=b"\x08\x03"))
    with pytest.raises(IdxFormatError, match="expected 0x0000") as error:
        read_idx_images(path)
    assert path in str(error.value) and "bytes 0-1 (magic number) are 0x0803" in str(error.value)


def test_element_type_other_than_uint8_names_the_expected_code(tmp_path):
    path = write_gz(tmp_path / "images.gz", idx_bytes(IMAGES, dtype_code=0x0D))
    with pytest.raises(IdxFormatError, match=r"byte 2 \(element type\) is 0x0d; expected 0x08 \(uint8\)") as error:
        read_idx_images(path)
    assert path in str(error.value)


def test_labels_file_read_as_images_names_the_expected_dimensions(labels_path):
    with pytest.raises(IdxFormatError, match=r"number of dimensions\) is 1; expected 3") as error:
        read_idx_images(labels_path)
    assert labels_path in str(error.value)


def test_images_file_read_as_labels_names_the_expected_dimensions(images_path):
    with pytest.raises(IdxFormatError, match=r"number of dimensions\) is 3; expected 1") as error:
        read_idx_labels(images_path)
    assert images_path in str(error.value)


def test_images_not_28_by_28_name_the_dimension_and_expected_size(tmp_path):
    path = write_gz(tmp_path / "images.gz", idx_bytes(np.zeros((3, 28, 32), np.uint8)))
    with pytest.raises(IdxFormatError, match=r"bytes 12-15 \(size of dimension 2\) are 32; expected 28") as error:
        read_idx_images(path)
    assert path in str(error.value)


def test_payload_shorter_than_the_header_says_names_the_expected_size(tmp_path):
    path = write_gz(tmp_path / "images.gz", idx_bytes(IMAGES[:11], shape=(12, 28, 28)))
    with pytest.raises(IdxFormatError, match=f"is {11 * 784} bytes; expected {12 * 784}") as error:
        read_idx_images(path)
    assert path in str(error.value)


def test_payload_longer_than_the_header_says_names_the_expected_size(tmp_path):
    path = write_gz(tmp_path / "labels.gz", idx_bytes(LABELS, shape=(10,)))
    with pytest.raises(IdxFormatError, match="is more than 10 bytes; expected 10") as error:
        read_idx_labels(path)
    assert path in str(error.value)


def test_count_far_larger_than_the_file_is_refused_without_allocating(tmp_path):
    path = write_gz(tmp_path / "images.gz", idx_bytes(IMAGES, shape=(2**32 - 1, 28, 28)))
    with pytest.raises(IdxFormatError, match=f"need {(2**32 - 1) * 784} payload bytes") as error:
        read_idx_images(path)
    assert path in str(error.value) and f"holds at most {os.path.getsize(path) * 1032}" in str(error.value)


def test_header_cut_short_names_the_offset(tmp_path):
    path = write_gz(tmp_path / "labels.gz", idx_bytes(LABELS)[:6])
    with pytest.raises(IdxFormatError, match="file ends at byte 6 inside the dimension sizes; expected 4 bytes at "
                                             "offset 4") as error:
        read_idx_labels(path)
    assert path in str(error.value)


def test_label_outside_0_to_9_names_its_index(tmp_path):
    labels = LABELS.copy()
    labels[[5, 7]] = [10, 255]
    path = write_gz(tmp_path / "labels.gz", idx_bytes(labels))
    with pytest.raises(IdxFormatError, match=r"label at index 5 \(byte 13\) is 10; expected 0-9") as error:
        read_idx_labels(path)
    assert path in str(error.value)


def test_image_and_label_counts_must_match(tmp_path):
    write_gz(tmp_path / "t10k-images-idx3-ubyte.gz", idx_bytes(IMAGES))
    write_gz(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes(LABELS[:10]))
    with pytest.raises(IdxFormatError, match="holds 12 images but .* holds 10 labels") as error:
        load_numpy(tmp_path, "test")
    assert "t10k-images-idx3-ubyte.gz" in str(error.value) and "t10k-labels-idx1-ubyte.gz" in str(error.value)


def test_truncated_gzip_names_the_file(tmp_path, images_path):
    compressed = Path(images_path).read_bytes()
    path = tmp_path / "truncated.gz"
    path.write_bytes(compressed[:len(compressed) // 2])
    with pytest.raises(IdxFormatError, match="cut short .*; expected a complete gzip stream") as error:
        read_idx_images(str(path))
    assert str(path) in str(error.value)


def test_corrupt_gzip_names_the_file(tmp_path):
    compressed = bytearray(gzip.compress(idx_bytes(IMAGES), mtime=0))
    compressed[40:60] = b"\xff" * 20
    path = tmp_path / "corrupt.gz"
    path.write_bytes(bytes(compressed))
    with pytest.raises(IdxFormatError, match="not valid gzip data .*; expected a gzip stream") as error:
        read_idx_images(str(path))
    assert str(path) in str(error.value)


def test_uncompressed_file_reads_like_the_gzip_one(tmp_path, images_path):
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(idx_bytes(IMAGES))
    header = read_idx_header(str(path))
    assert (header.shape, header.header_bytes, header.compressed) == ((12, 28, 28), 16, False)
    assert read_idx_header(images_path).compressed
    np.testing.assert_array_equal(read_idx_images(str(path)), IMAGES)


def test_uncompressed_payload_larger_than_the_file_is_refused_without_allocating(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(idx_bytes(LABELS, shape=(13,)))
    with pytest.raises(IdxFormatError, match=r"header sizes \(13,\) need 13 payload bytes; a 20-byte file holds "
                                             r"at most 20") as error:
        read_idx_labels(str(path))
    assert str(path) in str(error.value)


def test_gzip_stream_with_trailing_garbage_names_the_file(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(LABELS), mtime=0) + b"trailing")
    with pytest.raises(IdxFormatError, match="not valid gzip data") as error:
        read_idx_labels(str(path))
    assert str(path) in str(error.value)


def test_missing_files_are_all_listed(tmp_path):
    write_gz(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(LABELS))
    with pytest.raises(MissingFilesError, match="missing 1 file") as error:
        load_numpy(tmp_path, "train")
    assert str(tmp_path / "train-images-idx3-ubyte.gz") in str(error.value)
    with pytest.raises(MissingFilesError, match="missing 2 file") as error:
        idx.split_file_paths(tmp_path, "test")
    assert "t10k-images-idx3-ubyte.gz" in str(error.value) and "t10k-labels-idx1-ubyte.gz" in str(error.value)


def test_missing_file_read_directly_is_a_missing_files_error(tmp_path):
    with pytest.raises(MissingFilesError, match="no such file"):
        read_idx_labels(str(tmp_path / "absent.gz"))



def test_empty_array_with_huge_other_sizes_is_refused_before_numpy_sees_it(tmp_path):
    path = write_gz(tmp_path / "empty.gz", idx_bytes(np.zeros(0, np.uint8), shape=(0, 2**32 - 1, 2**32 - 1)))
    with pytest.raises(IdxFormatError, match=r"header sizes \(0, 4294967295, 4294967295\) describe an empty array "
                                             "too large to index") as error:
        read_idx_array(path)
    assert path in str(error.value)


def test_more_dimensions_than_numpy_holds_names_the_limit(tmp_path):
    path = write_gz(tmp_path / "deep.gz", idx_bytes(np.zeros([1] * 40, np.uint8)))
    with pytest.raises(IdxFormatError, match=r"byte 3 \(number of dimensions\) is 40; expected 1-32"):
        read_idx_array(path)


def test_unknown_element_type_lists_the_types_of_the_format(tmp_path):
    path = write_gz(tmp_path / "odd.gz", idx_bytes(LABELS, dtype_code=0x0A))
    with pytest.raises(IdxFormatError, match=r"byte 2 \(element type\) is 0x0a; expected one of 0x08 \(uint8\), "
                                             r"0x09 \(int8\), 0x0b \(int16\), 0x0c \(int32\), 0x0d \(float32\), "
                                             r"0x0e \(float64\)"):
        read_idx_array(path)

# Property tests: any array the format holds survives a write and a read; any bytes at all, and any damage to
# a valid file, end in a result or an IdxFormatError, never in another exception.

NATIVE_ELEMENT_DTYPES = [dtype.newbyteorder("=") for dtype in idx.ELEMENT_TYPES.values()]
SMALL_ARRAYS = st.sampled_from(NATIVE_ELEMENT_DTYPES).flatmap(
    lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5)))
# Sizes a damaged header is likely to get wrong in an interesting way: none, one, near 28, huge.
EDGE_DIM_SIZES = st.sampled_from([0, 1, 27, 28, 29, 2**16, 2**31, 2**32 - 1]) | st.integers(0, 2**32 - 1)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """One folder for a whole property test: hypothesis runs many examples per call of a test function."""
    return tmp_path_factory.mktemp("idx_properties")


def write_file(folder, data, compress):
    path = folder / "file-idx"
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return str(path)


def parse_with_every_reader(path):
    """Reads ``path`` as an array, images and labels: each returns what its format promises or IdxFormatError."""
    with contextlib.suppress(IdxFormatError):
        array = read_idx_array(path)
        assert 1 <= array.ndim <= idx.MAX_NUM_DIMS and array.dtype in NATIVE_ELEMENT_DTYPES
        event("read as an array")
    with contextlib.suppress(IdxFormatError):
        images = read_idx_images(path)
        assert images.dtype == np.uint8 and images.shape[1:] == (28, 28)
    with contextlib.suppress(IdxFormatError):
        labels = read_idx_labels(path)
        assert labels.dtype == np.uint8 and labels.ndim == 1 and np.all(labels < 10)


@PARSER_PROPERTY
@given(array=SMALL_ARRAYS, compress=st.booleans())
def test_write_then_read_returns_the_array_for_every_element_type_and_shape(scratch, array, compress):
    path = str(scratch / "array-idx")
    write_idx(path, array, compress=compress)
    read = read_idx_array(path)
    assert read.dtype == array.dtype and read.shape == array.shape
    assert read.tobytes() == array.tobytes()  # bit for bit: NaNs and -0.0 included
    assert read_idx_header(path).compressed == compress


@PARSER_PROPERTY
@given(count=st.integers(0, 4), seed=st.integers(0, 2**32 - 1), compress=st.booleans())
def test_dataset_files_written_read_back_as_images_and_labels(scratch, count, seed, compress):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=count, dtype=np.uint8)
    assert idx.encode_idx(images) == idx_bytes(images)  # the fixtures' own encoder agrees byte for byte
    write_idx(str(scratch / "images"), images, compress=compress)
    write_idx(str(scratch / "labels"), labels, compress=compress)
    np.testing.assert_array_equal(read_idx_images(str(scratch / "images")), images)
    np.testing.assert_array_equal(read_idx_labels(str(scratch / "labels")), labels)


def test_writer_refuses_what_the_format_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="IDX holds elements of .*; got bool"):
        write_idx(str(tmp_path / "x"), np.zeros(3, bool))
    with pytest.raises(ValueError, match=r"IDX holds 1-32 dimensions .*; got shape \(\)"):
        write_idx(str(tmp_path / "x"), np.uint8(3))
    assert not (tmp_path / "x").exists()


@PARSER_PROPERTY
@given(data=st.binary(max_size=256), compress=st.booleans())
def test_arbitrary_bytes_only_raise_idx_format_error(scratch, data, compress):
    parse_with_every_reader(write_file(scratch, data, compress))


@PARSER_PROPERTY
@given(data=st.data(), labels_file=st.booleans(), compress_first=st.booleans())
def test_damaged_files_only_raise_idx_format_error(scratch, data, labels_file, compress_first):
    encoded = idx_bytes(LABELS if labels_file else IMAGES[:2])
    # Damage to the gzip stream exercises its checks; damage before compressing, the IDX checks behind them.
    if compress_first:
        path = write_file(scratch, data.draw(mutated(gzip.compress(encoded, mtime=0))), compress=False)
    else:
        path = write_file(scratch, data.draw(mutated(encoded)), compress=data.draw(st.booleans()))
    parse_with_every_reader(path)


@PARSER_PROPERTY
@given(data=st.data(), compress=st.booleans())
def test_edited_headers_only_raise_idx_format_error(scratch, data, compress):
    header = bytearray(idx_bytes(IMAGES[:2])[:16])
    header[data.draw(st.integers(0, 3))] = data.draw(st.integers(0, 255))
    for dim in range(3):
        if data.draw(st.booleans()):
            struct.pack_into(">I", header, 4 + 4 * dim, data.draw(EDGE_DIM_SIZES))
    parse_with_every_reader(write_file(scratch, bytes(header) + IMAGES[:2].tobytes(), compress))
