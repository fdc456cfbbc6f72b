"""The strict IDX reader: what it returns, and how it names every kind of bad file."""

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from fmnist_tf.data import IdxFormatError, MissingFilesError, idx, load_numpy
from fmnist_tf.data import read_idx_header, read_idx_images, read_idx_labels
from idx_files import idx_bytes, tiny_examples, write_gz

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


def test_uncompressed_file_names_the_file(tmp_path):
    path = tmp_path / "images.gz"
    path.write_bytes(idx_bytes(IMAGES))
    with pytest.raises(IdxFormatError, match="not valid gzip data .Not a gzipped file") as error:
        read_idx_header(str(path))
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
