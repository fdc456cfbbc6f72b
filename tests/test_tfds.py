"""tensorflow-datasets' fashion_mnist prepared offline from local IDX files: the same examples as the IDX reader."""

import gzip
import shutil

import numpy as np
import pytest
from tensorflow_datasets.core import constants

from fmnist_tf.data import DataError, load_numpy, make_dataset
from fmnist_tf.data.tfds import prepare_fashion_mnist, tfds_split
from idx_files import write_tiny_idx_dir


@pytest.fixture
def tfds_home(tmp_path, monkeypatch):
    """tfds's default data folder, moved into the test's folder (plain ``tfds.load`` looks there)."""
    home = tmp_path / "tensorflow_datasets"
    monkeypatch.setattr(constants, "DATA_DIR", str(home))
    return home


def test_plain_tfds_load_reads_the_local_files_offline(tiny_idx_dir, tfds_home):
    import tensorflow_datasets as tfds

    prepare_fashion_mnist(tiny_idx_dir, verify=False)
    for split, count in (("train", 60), ("test", 20)):
        images, labels = load_numpy(tiny_idx_dir, split)
        examples = list(tfds.load("fashion_mnist", split=split, download=False).as_numpy_iterator())
        assert len(examples) == count
        np.testing.assert_array_equal(np.stack([example["image"][..., 0] for example in examples]), images)
        np.testing.assert_array_equal([example["label"] for example in examples], labels)
    assert (tfds_home / "fashion_mnist" / "3.0.1" / "dataset_info.json").exists()


def test_tfds_source_yields_the_idx_readers_examples_in_its_order(tiny_idx_dir, tfds_home):
    for split in ("train", "validation", "test"):
        batches = {source: list(make_dataset(tiny_idx_dir, split, batch_size=16, source=source,
                                             validation_size=10, seed=3).as_numpy_iterator())
                   for source in ("idx", "tfds")}
        assert [labels.tolist() for _, labels in batches["tfds"]] == [labels.tolist() for _, labels in batches["idx"]]
        np.testing.assert_array_equal(np.concatenate([images for images, _ in batches["tfds"]]),
                                      np.concatenate([images for images, _ in batches["idx"]]))
        assert batches["tfds"][0][1].dtype == np.int32


def test_a_prepared_folder_of_other_files_is_refused_by_name(tmp_path, tfds_home):
    first = write_tiny_idx_dir(tmp_path / "first")
    prepare_fashion_mnist(first, verify=False)
    other = write_tiny_idx_dir(tmp_path / "other")
    # 50 training examples instead of 60: the prepared split no longer matches.
    labels_path = tmp_path / "other" / "train-labels-idx1-ubyte.gz"
    raw = gzip.decompress(labels_path.read_bytes())
    labels_path.write_bytes(gzip.compress(raw[:4] + (50).to_bytes(4, "big") + raw[8:58]))
    images_path = tmp_path / "other" / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(images_path.read_bytes())
    images_path.write_bytes(gzip.compress(raw[:4] + (50).to_bytes(4, "big") + raw[8:16 + 50 * 784]))
    with pytest.raises(DataError, match=r"train split of 60 examples, in file order; expected 50 examples"):
        tfds_split(other, "train", verify=False)
    shutil.rmtree(tfds_home)
    assert len(tfds_split(other, "train", verify=False).labels) == 50
