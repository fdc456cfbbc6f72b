"""tensorflow-datasets' ``fashion_mnist`` offline: the stock dataset, prepared from the verified local IDX files.

``prepare_fashion_mnist("data/fashion")`` once; then ``tfds.load("fashion_mnist")`` reads it with no network, and
``tfds_split("data/fashion", "train").batches()`` is what ``--data_source=tfds`` streams.

Why not feed the stock builder its files: it fetches them through tfds's DownloadManager, which checks each ``.gz``
against upstream's size and SHA-256. Debian's ``.gz`` files are re-compressed (same payload, other bytes), so that
check refuses them, and the manual-dir path is not offered by this builder. So a subclass of the stock builder
(same name, version, features and class names) reads the files through ``fmnist_tf.data.idx`` instead of
downloading, and writes the prepared dataset where ``tfds.load`` looks; reading it back is all stock tfds.
"""

import dataclasses

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow_datasets.image_classification.mnist import FashionMNIST

from fmnist_tf.data import idx
from fmnist_tf.data.catalog import SPLITS
from fmnist_tf.data.errors import DataError
from fmnist_tf.data.fetch import fetch

TFDS_NAME = "fashion_mnist"
_RECORDS_PER_BATCH = 1024


class LocalFashionMnist(FashionMNIST, skip_registration=True):
    """The stock ``fashion_mnist`` builder, reading the IDX files of ``source_dir`` instead of downloading them.

    Its examples keep file order (no write-time shuffle), so they line up with the IDX reader's one for one;
    the counts come from the files rather than the stock builder's fixed 60,000 / 10,000.
    """

    name = TFDS_NAME

    def __init__(self, source_dir, **kwargs):
        self._source_dir = source_dir
        super().__init__(**kwargs)

    def _info(self):
        info = super()._info()
        # The stock info, but written in generation order: tfds otherwise shuffles examples by key hash.
        info.as_proto.disable_shuffling = True
        return info

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download
        return {split: self._generate_examples(split) for split in SPLITS}

    def _generate_examples(self, split):
        images, labels = idx.load_numpy(self._source_dir, split)
        for index, (image, label) in enumerate(zip(images, labels)):
            yield index, {"image": image[..., np.newaxis], "label": int(label)}


def prepare_fashion_mnist(data_dir, tfds_dir=None, verify=True):
    """Writes the prepared ``fashion_mnist`` into ``tfds_dir`` (tfds's default, e.g. ~/tensorflow_datasets) once.

    ``verify`` first checks (or fetches) the four files of ``data_dir`` against the catalog's payload digests.
    Returns the builder; tfds prepares into a temporary folder and renames it, so a reader never sees half.
    """
    if verify:
        fetch(TFDS_NAME, data_dir)
    builder = LocalFashionMnist(data_dir, data_dir=tfds_dir)
    if not builder.is_prepared():
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(try_download_gcs=False))
    _check_prepared_from(builder, data_dir)
    return builder


def _check_prepared_from(builder, data_dir):
    """Refuses a prepared fashion_mnist that is not in file order or not the size of ``data_dir``'s files.

    A folder prepared by the stock builder (shuffled) or from other files would not line up with the IDX reader.
    """
    for split in SPLITS:
        expected = idx.read_label_header(idx.split_file_paths(data_dir, split)[1]).shape[0]
        found = builder.info.splits[split].num_examples
        if not builder.info.disable_shuffling or found != expected:
            raise DataError(f"{builder.data_dir} holds a fashion_mnist {split} split of {found} examples, "
                            f"{'in file order' if builder.info.disable_shuffling else 'shuffled'}; expected "
                            f"{expected} examples in file order, prepared from {data_dir}: delete that folder "
                            "and prepare again")


@dataclasses.dataclass(frozen=True)
class TfdsSplit:
    """One split of the prepared dataset, with the interface of the streaming IDX and CSV sources."""

    split: str
    tfds_dir: str
    labels: np.ndarray  # int64 [N], in the dataset's order

    def batches(self):
        """(uint8 [b,28,28,1], int32 [b]) in file order, read by stock ``tfds.load``."""
        dataset = tfds.load(TFDS_NAME, split=self.split, data_dir=self.tfds_dir, as_supervised=True,
                            shuffle_files=False, download=False)
        return dataset.batch(_RECORDS_PER_BATCH).map(lambda images, labels: (images, tf.cast(labels, tf.int32)),
                                                     num_parallel_calls=tf.data.AUTOTUNE)


def tfds_split(data_dir, split, tfds_dir=None, verify=True):
    """``split`` ("train" or "test") of ``fashion_mnist`` through tfds, prepared from ``data_dir`` if need be."""
    builder = prepare_fashion_mnist(data_dir, tfds_dir=tfds_dir, verify=verify)
    labels = tfds.load(TFDS_NAME, split=split, data_dir=builder.data_dir_root, shuffle_files=False,
                       download=False, decoders={"image": tfds.decode.SkipDecoding()})
    labels = np.concatenate(list(labels.map(lambda example: example["label"]).batch(10000).as_numpy_iterator()))
    return TfdsSplit(split, builder.data_dir_root, labels)
