"""tf.data over ImageNet: JPEG folders or TFRecord shards in, batches of (images, int32 labels) out.

``make_imagenet_dataset("/data/ILSVRC2012", "train", batch_size=256, shuffle=True, seed=1)``; files that do
not decode are skipped, never a crash mid-epoch: ``find_bad_images(paths)`` lists them beforehand.
"""

import logging

import numpy as np
import tensorflow as tf

from fmnist_tf.data.imagenet import layout, preprocessing, tfrecords
from fmnist_tf.data.pipeline import PREFETCH_AUTOTUNE, prefetched

SOURCES = ("jpeg", "tfrecord")
_LOGGER = logging.getLogger(__name__)


def find_bad_images(paths):
    """The paths among ``paths`` that cannot be read and decoded to RGB, in their order; decoded in parallel.

    It decodes every file, as an epoch does: over ImageNet's 1.28M files, minutes on many cores.
    """
    paths = list(paths)
    decodable = (tf.data.Dataset.from_tensor_slices(tf.constant(paths, tf.string))
                 .map(lambda path: (path, tf.shape(preprocessing.decode_rgb(tf.io.read_file(path)))),
                      num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
                 .ignore_errors())
    good = {path.decode() for path, _ in decodable.as_numpy_iterator()}
    return [path for path in paths if path not in good]


def _encoded_files(paths, labels, shuffle, seed):
    dataset = tf.data.Dataset.from_tensor_slices((tf.constant(paths, tf.string), labels))
    if shuffle:
        # File names are small: a buffer the size of the split is a full shuffle.
        dataset = dataset.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    return dataset.map(lambda path, label: (tf.io.read_file(path), label), num_parallel_calls=tf.data.AUTOTUNE)


def _decoded(encoded_examples, training, image_size, preprocess, seed, deterministic):
    if training:
        # One stateless seed per example, drawn anew each epoch: seeded runs crop alike, epochs differ.
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        examples = tf.data.Dataset.zip(encoded_examples, seeds).map(
            lambda example, example_seed: (
                preprocessing.finish(preprocessing.random_resized_crop(example[0], image_size, example_seed),
                                     preprocess), example[1]),
            num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    else:
        examples = encoded_examples.map(
            lambda encoded, label: (preprocessing.finish(preprocessing.center_crop(encoded, image_size),
                                                         preprocess), label),
            num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    # A file that does not decode (truncated, not an image) is dropped with a logged warning.
    return examples.ignore_errors(log_warning=True)


def make_imagenet_dataset(data_dir, split, batch_size, image_size=224, num_classes=None, examples_per_class=None,
                          shuffle=False, seed=None, preprocess=None, *, training=None, source="jpeg",
                          repeat=False, drop_remainder=False, skip_bad_files=False,
                          shuffle_buffer=tfrecords.DEFAULT_SHUFFLE_BUFFER, prefetch_batches=PREFETCH_AUTOTUNE):
    """Batches of (images [B, image_size, image_size, 3], int32 labels [B]) of "train" or "validation".

    ``training`` (default: split is "train") takes the random resized crop and flip, otherwise the center
    crop. Images are uint8, unless ``preprocess`` (a model's ``preprocess_input``) maps the float32 0-255
    crops last. ``source`` "jpeg" reads the ILSVRC2012 tree in ``data_dir``; "tfrecord" reads shards written
    by ``write_imagenet_tfrecords`` there. ``num_classes`` keeps the first N wnids (labels unchanged),
    ``examples_per_class`` the first K examples of each. ``skip_bad_files`` decodes every file first
    (``find_bad_images``) and logs how many are left out; without it, bad files are dropped as met.
    ``prefetch_batches`` as in ``fmnist_tf.data.pipeline.prefetched``.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")
    training = split == "train" if training is None else training
    if source == "tfrecord":
        encoded = tfrecords.read_tfrecord_examples(data_dir, split, num_classes, examples_per_class,
                                                   shuffle=shuffle, seed=seed, shuffle_buffer=shuffle_buffer)
    else:
        paths, labels = layout.list_imagenet_files(data_dir, split, num_classes, examples_per_class)
        if skip_bad_files:
            bad = set(find_bad_images(paths))
            _LOGGER.warning("%s: %d of %d %s images do not decode and are left out%s", data_dir, len(bad),
                            len(paths), split, f", e.g. {sorted(bad)[:3]}" if bad else "")
            keep = np.array([path not in bad for path in paths], dtype=bool)
            paths, labels = [path for path, kept in zip(paths, keep) if kept], labels[keep]
        encoded = _encoded_files(paths, labels, shuffle, seed)
    if repeat:
        encoded = encoded.repeat()
    # Unshuffled or seeded input keeps its order; unseeded shuffled input need not wait for a slow image.
    dataset = _decoded(encoded, training, image_size, preprocess, seed, deterministic=seed is not None or not shuffle)
    return prefetched(dataset.batch(batch_size, drop_remainder=drop_remainder), prefetch_batches)


def num_imagenet_examples(data_dir, split, num_classes=None, examples_per_class=None, source="jpeg"):
    """How many examples ``make_imagenet_dataset`` reads for ``split`` (bad files included), for steps per epoch."""
    if source == "tfrecord":
        return tfrecords.count_tfrecord_examples(data_dir, split, num_classes, examples_per_class)
    return len(layout.list_imagenet_files(data_dir, split, num_classes, examples_per_class)[0])
