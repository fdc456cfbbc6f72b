"""tf.data over the dataset files: the streaming IDX reader, the stratified validation split, and batched datasets.

``make_dataset("data/fashion", "train", batch_size=400, shuffle=True, seed=1, validation_size=5000)``;
``make_training_dataset(..., start_step=s)`` is the endless training stream that starts at its batch ``s``.
"""

import dataclasses
import os
import random

import numpy as np
import tensorflow as tf
from sklearn.model_selection import train_test_split

from fmnist_tf.data import csv, idx
from fmnist_tf.data.catalog import IMAGE_HEIGHT, IMAGE_WIDTH

DATASET_SPLITS = ("train", "validation", "test")
SOURCES = ("idx", "csv", "memory", "tfds")
# The "train" and "validation" datasets come from separate calls: without a seed they must still
# agree on the split, or they would overlap.
DEFAULT_SPLIT_SEED = 0
# --prefetch_batches's default: tf.data sizes the buffer of batches prepared ahead (AUTOTUNE is -1).
PREFETCH_AUTOTUNE = tf.data.AUTOTUNE
_RECORDS_PER_BATCH = 1024


@dataclasses.dataclass(frozen=True)
class ValidatedIdx:
    """An images and a labels IDX file whose headers, sizes and labels have been checked."""

    images_path: str
    labels_path: str
    images_header: idx.IdxHeader
    labels_header: idx.IdxHeader
    labels: np.ndarray  # uint8 [N]

    def batches(self):
        """(uint8 [b,28,28,1], int32 [b]) in file order, b up to 1024: decoding whole batches is ~4x faster."""
        images = _fixed_length_records(self.images_path, self.images_header, IMAGE_HEIGHT * IMAGE_WIDTH)
        labels = _fixed_length_records(self.labels_path, self.labels_header, 1)
        return (tf.data.Dataset.zip((images, labels)).batch(_RECORDS_PER_BATCH)
                .map(_decode_records, num_parallel_calls=tf.data.AUTOTUNE))

    def dataset(self):
        """Unbatched (uint8 [28,28,1], int32 label), streamed from the files in file order."""
        return self.batches().unbatch()


def _fixed_length_records(path, header, record_bytes):
    return tf.data.FixedLengthRecordDataset(path, record_bytes, header_bytes=header.header_bytes,
                                            compression_type="GZIP" if header.compressed else "")


def _decode_records(image_records, label_records):
    images = tf.reshape(tf.io.decode_raw(image_records, tf.uint8), [-1, IMAGE_HEIGHT, IMAGE_WIDTH, 1])
    labels = tf.cast(tf.reshape(tf.io.decode_raw(label_records, tf.uint8), [-1]), tf.int32)
    return images, labels


def validate_idx_files(images_path, labels_path):
    """Checks both headers, the images payload size, the counts and every label, in Python, before streaming.

    tf.data would report a bad file only while being iterated, and without the file's name.
    """
    images_header = idx.read_image_header(images_path)
    idx.check_payload_size(images_path, images_header)
    labels_header = idx.read_label_header(labels_path)
    labels = idx.read_idx_labels(labels_path)
    idx.check_counts_match(images_path, images_header.shape[0], labels_path, len(labels))
    return ValidatedIdx(images_path, labels_path, images_header, labels_header, labels)


def idx_dataset(images_path, labels_path):
    """Unbatched (uint8 [28,28,1], int32 label) streamed from two IDX files (gzip or not), validated first."""
    return validate_idx_files(images_path, labels_path).dataset()


def _check_validation_size(validation_size, num_examples):
    if not 0 <= validation_size < num_examples:
        raise ValueError(f"validation_size is {validation_size}; expected 0 <= validation_size < {num_examples} "
                         f"(the number of training examples)")


def stratified_split(labels, validation_size, seed):
    """(train indices, validation indices), sorted int64; the validation set keeps each class's share."""
    labels = np.asarray(labels)
    _check_validation_size(validation_size, len(labels))
    indices = np.arange(len(labels), dtype=np.int64)
    if validation_size == 0:
        return indices, np.array([], dtype=np.int64)
    train, validation = train_test_split(indices, test_size=validation_size, stratify=labels, random_state=seed)
    return np.sort(train), np.sort(validation)


def _file_split(split):
    """The files a dataset split reads: "train" and "validation" both come from the training files."""
    if split not in DATASET_SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {DATASET_SPLITS}")
    return "test" if split == "test" else "train"


def _indices_of_split(labels, split, validation_size, seed):
    if split == "test":
        return np.arange(len(labels), dtype=np.int64)
    if split == "validation" and validation_size == 0:
        raise ValueError("the validation split needs validation_size > 0")
    train, validation = stratified_split(labels, validation_size, DEFAULT_SPLIT_SEED if seed is None else seed)
    return validation if split == "validation" else train


def _open_streaming_source(source, data_dir, file_split):
    """A validated IDX pair, CSV file or tfds split: its labels, and ``batches()`` to stream its examples."""
    if source == "idx":
        return validate_idx_files(*idx.split_file_paths(data_dir, file_split))
    if source == "tfds":
        # Imported here: tensorflow_datasets takes seconds to import, and only this source needs it.
        from fmnist_tf.data.tfds import tfds_split

        # The front end has verified the files (fetch); tfds prepares from them once, into its default folder.
        return tfds_split(data_dir, file_split, verify=False)
    return csv.validate_csv(os.path.join(data_dir, csv.CSV_FILE_NAMES[file_split]))


def _select_examples(batches, indices, num_examples):
    """The examples at ``indices`` (sorted) of a stream of batches, in stream order, unbatched.

    Each batch is masked by its slice of a boolean mask: per batch rather than per example
    (enumerate + filter), which takes several times longer on the 60,000 training examples.
    """
    if len(indices) == num_examples:
        return batches.unbatch()
    selected = np.zeros(num_examples, dtype=bool)
    selected[indices] = True
    selected = tf.constant(selected)

    def keep_selected(offset, batch):
        images, labels = batch
        end = offset + tf.shape(labels, out_type=tf.int64)[0]
        return end, (tf.boolean_mask(images, selected[offset:end]), tf.boolean_mask(labels, selected[offset:end]))

    return batches.scan(tf.constant(0, tf.int64), keep_selected).unbatch()


def _split_examples(data_dir, split, source, seed, validation_size, whole=False):
    """(unbatched (uint8 [28,28,1], int32) examples of ``split`` in file order, how many there are).

    ``whole``: the split as one element (uint8 [n,28,28,1], int32 [n]) instead.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")
    file_split = _file_split(split)
    if source == "memory":
        images, labels = idx.load_numpy(data_dir, file_split)
        indices = _indices_of_split(labels, split, validation_size, seed)
        arrays = (images[indices][..., np.newaxis], labels[indices].astype(np.int32))
        dataset = tf.data.Dataset.from_tensors(arrays) if whole else tf.data.Dataset.from_tensor_slices(arrays)
        return dataset, len(indices)
    files = _open_streaming_source(source, data_dir, file_split)
    indices = _indices_of_split(files.labels, split, validation_size, seed)
    examples = _select_examples(files.batches(), indices, len(files.labels))
    return (examples.batch(len(indices)) if whole else examples), len(indices)


def make_dataset(data_dir, split, *, batch_size, source="idx", shuffle=False, repeat=False, seed=None,
                 validation_size=0, drop_remainder=False, prefetch_batches=PREFETCH_AUTOTUNE):
    """Batches (uint8 [B,28,28,1], int32 [B]) of "train", "validation" (held out of train) or "test".

    ``source``: "idx" streams the .gz files, "csv" streams ``data_dir``/fashion-mnist_{train,test}.csv,
    "memory" decodes the .gz files into memory first, "tfds" reads ``tfds.load("fashion_mnist")`` prepared
    from the .gz files (fmnist_tf.data.tfds). All four yield the same examples in the same order.
    Distributed over several workers, they share each epoch without overlap (a shuffle needs ``seed``).
    ``prefetch_batches`` (``prefetched``) changes when batches are made, never which.
    """
    dataset, count = _split_examples(data_dir, split, source, seed, validation_size)
    if shuffle:
        # A buffer the size of the split is a full shuffle; 60,000 uint8 images are only 47 MB.
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = prefetched(dataset.batch(batch_size, drop_remainder=drop_remainder), prefetch_batches)
    return dataset.with_options(_shard_by_data_options())


def prefetched(dataset, batches):
    """``dataset`` with ``batches`` made ahead of the reader (PREFETCH_AUTOTUNE: as many as tf.data finds useful;
    0: each made when asked for)."""
    return dataset.prefetch(batches) if batches else dataset


def epoch_order(num_examples, seed, epoch):
    """The order (int64 [num_examples], a permutation) of the examples in training epoch ``epoch`` under ``seed``."""
    return tf.random.experimental.stateless_shuffle(tf.range(num_examples, dtype=tf.int64),
                                                    seed=tf.stack([tf.cast(seed, tf.int64), tf.cast(epoch, tf.int64)]))


def make_training_dataset(data_dir, *, batch_size, seed, start_step=0, source="idx", validation_size=0,
                          prefetch_batches=PREFETCH_AUTOTUNE):
    """Endless full batches of the "train" split, reshuffled every epoch, starting at batch ``start_step``.

    ``seed`` also seeds the validation split, as in ``make_dataset``; None draws the order at random (each
    worker its own: several workers need a seed).
    Given, batch ``s`` is a function of ``seed`` and ``s`` alone: the examples at positions ``s * batch_size``
    onwards of the epochs laid end to end, each epoch in ``epoch_order(n, seed, epoch)``. So training resumed from
    a checkpoint at global step ``s`` reads exactly what an uninterrupted run read next, and the checkpoint needs
    nothing but the step. Checkpointing the tf.data iterator instead would save its shuffle buffer, the whole
    split (42 MB per checkpoint for the 55,000 images of the default split, as much again as the convnet with
    Adam), and could not hold the augmentation's generator state in step with its prefetched batches. Starting
    mid-epoch costs no more than starting an epoch.
    """
    # The split as one element, read once and kept: a full shuffle needs all of it at hand anyway (like a
    # buffer of the split's size), and later epochs then cost a gather per batch instead of a second read.
    whole_split, count = _split_examples(data_dir, "train", source, seed, validation_size, whole=True)
    order_seed = random.randrange(2**31) if seed is None else seed
    first_epoch, first_offset = divmod(start_step * batch_size, count)

    def epoch_positions(epoch):
        # The first epoch begins at the resumed position: its order is cut, no example is read and skipped.
        order = epoch_order(count, order_seed, epoch)[tf.where(epoch == first_epoch, first_offset, 0):]
        return tf.data.Dataset.from_tensor_slices(order)

    # Only the example indices go one by one (batches span epoch ends); the pixels are gathered per batch.
    index_batches = tf.data.Dataset.counter(first_epoch).flat_map(epoch_positions).batch(batch_size,
                                                                                          drop_remainder=True)

    def batches_of(images, labels):
        return index_batches.map(lambda indices: (tf.gather(images, indices), tf.gather(labels, indices)),
                                 num_parallel_calls=tf.data.AUTOTUNE)

    dataset = prefetched(whole_split.flat_map(batches_of), prefetch_batches)
    return dataset.with_options(_shard_by_data_options())


def _shard_by_data_options():
    """Workers of a multi-worker strategy share each epoch by taking turns at the (rebatched) batches.

    Sharding by file cannot split the one file of a split among workers; each worker reads the
    whole stream, in the same seeded order, and keeps its own batches.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return options


def num_examples(data_dir, split, validation_size=0):
    """How many examples ``make_dataset`` yields for ``split`` per epoch, from the IDX labels header."""
    _, labels_path = idx.split_file_paths(data_dir, _file_split(split))
    count = idx.read_label_header(labels_path).shape[0]
    if split == "test":
        return count
    _check_validation_size(validation_size, count)
    return validation_size if split == "validation" else count - validation_size
