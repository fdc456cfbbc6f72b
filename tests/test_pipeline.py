"""The tf.data builders: the streaming IDX reader (damaged files too), the stratified split, make_dataset over
all three sources."""

import gzip
import os

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import event, given, settings
from hypothesis import strategies as st

from fmnist_tf.data import (FASHION_MNIST, IdxFormatError, idx_dataset, load_numpy, make_dataset, num_examples,
                            read_idx_images, read_idx_labels, stratified_split, write_csv, write_idx)
from fmnist_tf.data.csv import CSV_FILE_NAMES
from idx_files import idx_bytes, tiny_examples, write_gz
from mutations import EDITS, IN_PLACE_EDITS, PARSER_PROPERTY, mutated

SOURCES = ("idx", "csv", "memory")
REAL_DATA_DIR = FASHION_MNIST.debian_dir


def write_csv_files(data_dir, num_examples=None):
    """Writes Kaggle-named CSV copies of the IDX files in ``data_dir`` (their first ``num_examples`` rows)."""
    for split, file_name in CSV_FILE_NAMES.items():
        images, labels = load_numpy(data_dir, split)
        write_csv(images[:num_examples], labels[:num_examples], os.path.join(data_dir, file_name))


@pytest.fixture
def tiny_dir(tiny_idx_dir):
    """The tiny IDX dataset with its CSV copies beside it, so every source reads the same examples."""
    write_csv_files(tiny_idx_dir)
    return tiny_idx_dir


def read_all(dataset):
    """(images, labels) of every batch, concatenated."""
    batches = list(dataset.as_numpy_iterator())
    return np.concatenate([images for images, _ in batches]), np.concatenate([labels for _, labels in batches])


def test_idx_dataset_streams_the_files_examples_in_order(tiny_idx_dir):
    images_path = os.path.join(tiny_idx_dir, "t10k-images-idx3-ubyte.gz")
    dataset = idx_dataset(images_path, os.path.join(tiny_idx_dir, "t10k-labels-idx1-ubyte.gz"))
    assert dataset.element_spec == (tf.TensorSpec([28, 28, 1], tf.uint8), tf.TensorSpec([], tf.int32))
    images, labels = read_all(dataset.batch(7))
    expected_images, expected_labels = load_numpy(tiny_idx_dir, "test")
    np.testing.assert_array_equal(images[..., 0], expected_images)
    np.testing.assert_array_equal(labels, expected_labels)


def test_idx_dataset_checks_the_images_payload_before_streaming(tmp_path):
    images, labels = tiny_examples(10, seed=1)
    images_path = write_gz(tmp_path / "images.gz", idx_bytes(images[:9], shape=images.shape))
    labels_path = write_gz(tmp_path / "labels.gz", idx_bytes(labels))
    with pytest.raises(IdxFormatError, match=f"is {9 * 784} bytes; expected {10 * 784}") as error:
        idx_dataset(images_path, labels_path)
    assert images_path in str(error.value)


def test_idx_dataset_checks_counts_and_labels_before_streaming(tmp_path):
    images, labels = tiny_examples(10, seed=1)
    images_path = write_gz(tmp_path / "images.gz", idx_bytes(images))
    with pytest.raises(IdxFormatError, match="holds 10 images but .* holds 9 labels"):
        idx_dataset(images_path, write_gz(tmp_path / "short.gz", idx_bytes(labels[:9])))
    labels[4] = 11
    with pytest.raises(IdxFormatError, match=r"label at index 4 \(byte 12\) is 11; expected 0-9"):
        idx_dataset(images_path, write_gz(tmp_path / "bad.gz", idx_bytes(labels)))


def test_uncompressed_idx_files_stream_the_same_examples(tmp_path):
    images, labels = tiny_examples(10, seed=1)
    write_idx(str(tmp_path / "images"), images, compress=False)
    write_idx(str(tmp_path / "labels"), labels, compress=False)
    dataset = idx_dataset(str(tmp_path / "images"), str(tmp_path / "labels"))
    streamed_images, streamed_labels = read_all(dataset.batch(4))
    np.testing.assert_array_equal(streamed_images[..., 0], images)
    np.testing.assert_array_equal(streamed_labels, labels)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """One folder for a whole property test: hypothesis runs many examples per call of a test function."""
    return tmp_path_factory.mktemp("pipeline_properties")


# Streaming a damaged file costs a tf.data pipeline per example: a few examples, each a different damage.
@settings(PARSER_PROPERTY, max_examples=12)
@given(data=st.data(), damage_labels=st.booleans())
def test_damaged_idx_files_are_refused_before_streaming_or_stream_what_numpy_reads(scratch, data, damage_labels):
    """The streaming reader validates the headers in Python, then trusts them: that must never fail mid-stream."""
    images, labels = tiny_examples(5, seed=2)
    files = {"images": idx_bytes(images), "labels": idx_bytes(labels)}
    damaged = "labels" if damage_labels else "images"
    # Anywhere in the gzip stream, anywhere in the IDX bytes, or only in the payload (which often stays valid).
    where = data.draw(st.sampled_from(["gzip stream", "IDX bytes", "IDX payload"]))
    if where == "gzip stream":
        files[damaged] = data.draw(mutated(gzip.compress(files[damaged], mtime=0)))
    else:
        header_bytes = 8 if damage_labels else 16
        files[damaged] = data.draw(mutated(files[damaged], start=header_bytes if where == "IDX payload" else 0,
                                           edits=IN_PLACE_EDITS if where == "IDX payload" else EDITS))
    for name, content in files.items():
        (scratch / name).write_bytes(gzip.compress(content, mtime=0) if data.draw(st.booleans()) else content)
    paths = str(scratch / "images"), str(scratch / "labels")
    try:
        dataset = idx_dataset(*paths)
    except IdxFormatError:
        event("refused")
        return
    event("streamed")
    streamed_images, streamed_labels = read_all(dataset.batch(8))
    np.testing.assert_array_equal(streamed_images[..., 0], read_idx_images(paths[0]))
    np.testing.assert_array_equal(streamed_labels, read_idx_labels(paths[1]))


@pytest.mark.parametrize("split, validation_size", [("train", 0), ("train", 20), ("validation", 20), ("test", 20)])
def test_all_sources_yield_identical_examples_in_order(tiny_dir, split, validation_size):
    results = [read_all(make_dataset(tiny_dir, split, batch_size=8, source=source, validation_size=validation_size,
                                     seed=3)) for source in SOURCES]
    for images, labels in results[1:]:
        np.testing.assert_array_equal(images, results[0][0])
        np.testing.assert_array_equal(labels, results[0][1])


@pytest.mark.parametrize("source", SOURCES)
def test_batches_are_uint8_images_and_int32_labels(tiny_dir, source):
    dataset = make_dataset(tiny_dir, "test", batch_size=8, source=source)
    assert dataset.element_spec == (tf.TensorSpec([None, 28, 28, 1], tf.uint8), tf.TensorSpec([None], tf.int32))
    assert [len(labels) for _, labels in dataset.as_numpy_iterator()] == [8, 8, 4]
    dropped = make_dataset(tiny_dir, "test", batch_size=8, source=source, drop_remainder=True)
    assert dropped.element_spec[0].shape.as_list() == [8, 28, 28, 1]
    assert [len(labels) for _, labels in dropped.as_numpy_iterator()] == [8, 8]


def test_train_and_validation_split_the_training_files_by_class(tiny_idx_dir):
    images, labels = load_numpy(tiny_idx_dir, "train")
    train_images, train_labels = read_all(make_dataset(tiny_idx_dir, "train", batch_size=64, validation_size=20))
    validation_images, validation_labels = read_all(
        make_dataset(tiny_idx_dir, "validation", batch_size=64, validation_size=20))
    assert (len(train_labels), len(validation_labels)) == (40, 20)
    assert np.bincount(validation_labels, minlength=10).tolist() == [2] * 10
    train_rows = {image.tobytes() for image in train_images}
    validation_rows = {image.tobytes() for image in validation_images}
    assert train_rows | validation_rows == {image.tobytes() for image in images}
    assert not train_rows & validation_rows


def test_shuffle_is_seeded_and_reshuffles_each_epoch(tiny_idx_dir):
    def epochs(seed):
        dataset = make_dataset(tiny_idx_dir, "train", batch_size=60, shuffle=True, repeat=True, seed=seed)
        return [labels for _, labels in dataset.take(2).as_numpy_iterator()]

    first_epoch, second_epoch = epochs(seed=1)
    again_first, again_second = epochs(seed=1)
    _, in_order = load_numpy(tiny_idx_dir, "train")
    np.testing.assert_array_equal(first_epoch, again_first)
    np.testing.assert_array_equal(second_epoch, again_second)
    assert not np.array_equal(first_epoch, second_epoch) and not np.array_equal(first_epoch, in_order)
    assert sorted(first_epoch) == sorted(second_epoch) == sorted(in_order)


def test_repeat_goes_on_past_one_epoch(tiny_idx_dir):
    dataset = make_dataset(tiny_idx_dir, "test", batch_size=8, repeat=True, drop_remainder=True)
    assert len(list(dataset.take(10).as_numpy_iterator())) == 10


def test_stratified_split_keeps_each_class_share_and_is_seeded():
    labels = np.repeat(np.arange(4), [400, 300, 200, 100])
    train, validation = stratified_split(labels, 100, seed=5)
    assert train.dtype == validation.dtype == np.int64
    assert np.bincount(labels[validation]).tolist() == [40, 30, 20, 10]
    assert np.all(np.diff(train) > 0) and np.all(np.diff(validation) > 0)
    np.testing.assert_array_equal(np.union1d(train, validation), np.arange(1000))
    np.testing.assert_array_equal(stratified_split(labels, 100, seed=5)[1], validation)
    assert not np.array_equal(stratified_split(labels, 100, seed=6)[1], validation)


def test_stratified_split_of_zero_keeps_every_example_for_training():
    train, validation = stratified_split(np.arange(10), 0, seed=0)
    assert train.tolist() == list(range(10)) and validation.tolist() == []


@pytest.mark.parametrize("validation_size", [-1, 10, 11])
def test_stratified_split_rejects_sizes_outside_the_examples(validation_size):
    expected = f"validation_size is {validation_size}; expected 0 <= validation_size < 10 "
    with pytest.raises(ValueError, match=expected):
        stratified_split(np.arange(10), validation_size, seed=0)


def test_validation_split_needs_a_validation_size(tiny_idx_dir):
    with pytest.raises(ValueError, match="validation split needs validation_size > 0"):
        make_dataset(tiny_idx_dir, "validation", batch_size=8)


@pytest.mark.parametrize("arguments, message", [
    ({"split": "eval"}, "unknown split 'eval'"),
    ({"split": "test", "source": "tfrecord"}, "unknown source 'tfrecord'"),
])
def test_unknown_split_or_source_names_the_choices(tiny_idx_dir, arguments, message):
    with pytest.raises(ValueError, match=message):
        make_dataset(tiny_idx_dir, batch_size=8, **arguments)


def test_num_examples_counts_each_split(tiny_idx_dir):
    counts = {split: num_examples(tiny_idx_dir, split, validation_size=20)
              for split in ("train", "validation", "test")}
    assert counts == {"train": 40, "validation": 20, "test": 20}


@pytest.mark.real_data
@pytest.mark.skipif(not os.path.isdir(REAL_DATA_DIR), reason=f"{REAL_DATA_DIR} is absent")
def test_real_test_split_is_the_same_from_every_source(tmp_path):
    images, labels = load_numpy(REAL_DATA_DIR, "test")
    write_csv(images[:2000], labels[:2000], str(tmp_path / CSV_FILE_NAMES["test"]))
    sources = {"idx": REAL_DATA_DIR, "memory": REAL_DATA_DIR, "csv": str(tmp_path)}
    for source, data_dir in sources.items():
        dataset = make_dataset(data_dir, "test", batch_size=500, source=source)
        first_images, first_labels = read_all(dataset.take(4))
        np.testing.assert_array_equal(first_images[..., 0], images[:2000], err_msg=source)
        np.testing.assert_array_equal(first_labels, labels[:2000], err_msg=source)
