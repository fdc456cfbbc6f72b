"""ImageNet as TFRecord shards: the JPEG tree converted once, read back as (encoded image, label) examples.

``write_imagenet_tfrecords("/data/ILSVRC2012", "/data/imagenet-tfrecords", "train", num_shards=1024)``, then
``make_imagenet_dataset("/data/imagenet-tfrecords", "train", ..., source="tfrecord")``.

Each shard ``{split}-{i:05d}-of-{n:05d}.tfrecord`` holds tf.train.Examples with the keys of TF Model Garden's
ImageNet shards (``image/encoded``, ``image/class/label`` 0-based here, ``image/class/synset``, ...);
``{split}-manifest.json`` holds the class index, the examples per label and the files left out.
"""

import json
import logging
import os

import numpy as np
import tensorflow as tf
import tqdm

from fmnist_tf import atomic
from fmnist_tf.data.errors import ImagenetLayoutError
from fmnist_tf.data.imagenet import layout, preprocessing

DEFAULT_SHUFFLE_BUFFER = 10_000  # examples (about 1.1 GB of ImageNet JPEG bytes)
_SHARD_READERS = 16
_WRITE_ORDER_SEED = 0
_FEATURES = {
    "image/encoded": tf.io.FixedLenFeature([], tf.string),
    "image/class/label": tf.io.FixedLenFeature([], tf.int64),
}
_LOGGER = logging.getLogger(__name__)


def shard_name(split, index, num_shards):
    return f"{split}-{index:05d}-of-{num_shards:05d}.tfrecord"


def manifest_path(tfrecord_dir, split):
    return os.path.join(tfrecord_dir, f"{split}-manifest.json")


def _bytes_feature(value):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int64_feature(value):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


def _serialize(encoded, label, wnid, file_name, height, width):
    return tf.train.Example(features=tf.train.Features(feature={
        "image/encoded": _bytes_feature(encoded),
        "image/class/label": _int64_feature(label),
        "image/class/synset": _bytes_feature(wnid.encode()),
        "image/filename": _bytes_feature(file_name.encode()),
        "image/height": _int64_feature(height),
        "image/width": _int64_feature(width),
    })).SerializeToString()


def _decodable_files(paths, labels):
    """(position, path, bytes, label, shape) of each file that decodes, in order; the others are dropped."""
    return (tf.data.Dataset.from_tensor_slices((tf.range(len(paths), dtype=tf.int64), tf.constant(paths), labels))
            .map(lambda position, path, label: (position, path, tf.io.read_file(path), label),
                 num_parallel_calls=tf.data.AUTOTUNE)
            .map(lambda position, path, encoded, label: (
                position, path, encoded, label, tf.shape(preprocessing.decode_rgb(encoded))[:2]),
                 num_parallel_calls=tf.data.AUTOTUNE)
            .ignore_errors())


def write_imagenet_tfrecords(data_dir, output_dir, split, num_shards, num_classes=None, examples_per_class=None,
                             progress=True):
    """Writes the files of ``split`` that decode into ``num_shards`` shards, each atomically; returns the manifest.

    Training files are spread over the shards in a seeded random order, so that every shard holds every class.
    The manifest's ``"skipped"`` lists the files that do not decode; their count is logged.
    """
    class_index = layout.read_class_index(data_dir)
    paths, labels = layout.list_imagenet_files(data_dir, split, num_classes, examples_per_class, class_index)
    if not 1 <= num_shards <= len(paths):
        raise ValueError(f"num_shards is {num_shards}; expected 1 to {len(paths)} (the {split} files)")
    if split == "train":
        order = np.random.default_rng(_WRITE_ORDER_SEED).permutation(len(paths))
        paths, labels = [paths[i] for i in order], labels[order]
    os.makedirs(output_dir, exist_ok=True)
    written = np.zeros(len(paths), dtype=bool)
    examples_per_label = np.zeros(len(class_index), dtype=np.int64)
    examples = _decodable_files(paths, labels).as_numpy_iterator()
    pending = next(examples, None)
    with tqdm.tqdm(total=len(paths), desc=f"{split} -> TFRecord", unit="image", disable=not progress) as bar:
        for shard in range(num_shards):
            end = (shard + 1) * len(paths) // num_shards
            with atomic.atomic_output_path(os.path.join(output_dir, shard_name(split, shard, num_shards))) as temp:
                with tf.io.TFRecordWriter(temp) as writer:
                    while pending is not None and pending[0] < end:
                        position, path, encoded, label, (height, width) = pending
                        path = path.decode()
                        writer.write(_serialize(encoded, int(label), class_index.wnids[label],
                                                os.path.basename(path), int(height), int(width)))
                        written[position] = True
                        examples_per_label[label] += 1
                        pending = next(examples, None)
            bar.update(end - bar.n)
    skipped = [path for path, was_written in zip(paths, written) if not was_written]
    if skipped:
        _LOGGER.warning("%s: %d of %d %s files do not decode and were left out: %s", data_dir, len(skipped),
                        len(paths), split, skipped[:3])
    manifest = {"split": split, "num_shards": num_shards, "wnids": list(class_index.wnids),
                "names": list(class_index.names), "examples_per_label": examples_per_label.tolist(),
                "skipped": skipped}
    with atomic.atomic_write(manifest_path(output_dir, split)) as stream:
        stream.write(json.dumps(manifest, indent=1).encode())
    return manifest


def read_manifest(tfrecord_dir, split):
    """The manifest of ``split``, after checking that all of its shards are present."""
    path = manifest_path(tfrecord_dir, split)
    if not os.path.isfile(path):
        raise ImagenetLayoutError(f"{path} is missing; expected write_imagenet_tfrecords's output for {split!r}")
    with open(path, encoding="utf-8") as stream:
        manifest = json.load(stream)
    missing = [name for name in (shard_name(split, i, manifest["num_shards"]) for i in range(manifest["num_shards"]))
               if not os.path.isfile(os.path.join(tfrecord_dir, name))]
    if missing:
        raise ImagenetLayoutError(f"{tfrecord_dir}: {len(missing)} of {manifest['num_shards']} {split} shards are "
                                  f"missing, e.g. {missing[0]}")
    return manifest


def count_tfrecord_examples(tfrecord_dir, split, num_classes=None, examples_per_class=None):
    """Examples of the first ``num_classes`` labels, at most ``examples_per_class`` each, from the manifest."""
    counts = np.asarray(read_manifest(tfrecord_dir, split)["examples_per_label"][:num_classes])
    return int(np.minimum(counts, examples_per_class).sum() if examples_per_class else counts.sum())


def _first_examples_per_class(examples, num_labels, examples_per_class):
    def count_label(seen, example):
        label = example[1]
        kept = seen[label] < examples_per_class
        return tf.tensor_scatter_nd_add(seen, [[label]], [1]), (example, kept)

    return (examples.scan(tf.zeros([num_labels], tf.int64), count_label)
            .filter(lambda example, kept: kept).map(lambda example, kept: example))


def read_tfrecord_examples(tfrecord_dir, split, num_classes=None, examples_per_class=None, shuffle=False,
                           seed=None, shuffle_buffer=DEFAULT_SHUFFLE_BUFFER):
    """(encoded image, int32 label) from the shards of ``split``; shuffled by shard order, interleaving and a buffer.

    ``examples_per_class`` keeps the first K of each label in shard order, before any shuffle.
    """
    manifest = read_manifest(tfrecord_dir, split)
    layout.check_subset(num_classes, examples_per_class, len(manifest["wnids"]))
    shards = [os.path.join(tfrecord_dir, shard_name(split, i, manifest["num_shards"]))
              for i in range(manifest["num_shards"])]
    subset = examples_per_class is not None
    files = tf.data.Dataset.from_tensor_slices(shards)
    if shuffle and not subset:
        files = files.shuffle(len(shards), seed=seed, reshuffle_each_iteration=True)
    examples = (files.interleave(tf.data.TFRecordDataset, cycle_length=min(_SHARD_READERS, len(shards)),
                                 num_parallel_calls=tf.data.AUTOTUNE,
                                 deterministic=not shuffle or subset or seed is not None)
                .map(_parse, num_parallel_calls=tf.data.AUTOTUNE))
    if num_classes is not None:
        examples = examples.filter(lambda encoded, label: label < num_classes)
    if subset:
        examples = _first_examples_per_class(examples, len(manifest["wnids"]), examples_per_class)
    if shuffle:
        examples = examples.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    return examples


def _parse(serialized):
    features = tf.io.parse_single_example(serialized, _FEATURES)
    return features["image/encoded"], tf.cast(features["image/class/label"], tf.int32)
