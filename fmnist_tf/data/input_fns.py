"""Estimator input functions over the dataset files: callables returning datasets.

``make_input_fns(data_dir, batch_size=400)["train"]()`` is the shuffled, repeated training set (``(start_step=s)``:
from its batch ``s``, as the Estimator asks when it resumes);
``make_imagenet_input_fns`` is the same over ILSVRC2012; ``dataset_class_names`` and ``dataset_image_shape``
say what a model of either must classify and take.
"""

import tensorflow as tf

from fmnist_tf.data import imagenet
from fmnist_tf.data.catalog import IMAGE_HEIGHT, IMAGE_WIDTH, IMAGENET, get_dataset_spec
from fmnist_tf.data.imagenet import layout
from fmnist_tf.data.pipeline import PREFETCH_AUTOTUNE, make_dataset, make_training_dataset, prefetched

# The Estimator's splits of ImageNet: its labelled validation images are the test split.
_IMAGENET_SPLITS = {"train": "train", "test": "validation"}


def _with_augment(dataset, augment, first_batch=None, prefetch_batches=PREFETCH_AUTOTUNE):
    """``dataset`` mapped through ``augment``; from ``first_batch`` on, each batch augmented by its index."""
    if augment is None:
        return dataset
    # One call at a time: the augmentation layers hold their generators' state.
    if first_batch is None:
        return prefetched(dataset.map(augment), prefetch_batches)
    indexed = tf.data.Dataset.zip((dataset, tf.data.Dataset.counter(first_batch)))
    return prefetched(indexed.map(lambda batch, index: augment(*batch, batch_index=index)), prefetch_batches)


def make_input_fns(data_dir, batch_size, source="memory", validation_size=0, seed=None, augment=None,
                   prefetch_batches=PREFETCH_AUTOTUNE):
    """Input functions keyed by split: "train", "test", and "validation" when one is held out.

    Training input is shuffled every epoch, repeated and in full batches, then mapped through ``augment(images,
    labels, batch_index)`` when given (``fmnist_tf.augment``); ``train_input_fn(start_step=s)`` starts at batch
    ``s``, the same batch, augmented alike, as in a run from step 0 given a ``seed`` (``make_training_dataset``).
    Evaluation input is read once, in order. ``prefetch_batches``: batches made ahead (``pipeline.prefetched``).
    """
    common = dict(batch_size=batch_size, source=source, validation_size=validation_size, seed=seed,
                  prefetch_batches=prefetch_batches)

    def train_input_fn(start_step=0):
        dataset = make_training_dataset(data_dir, start_step=start_step, **common)
        return _with_augment(dataset, augment, first_batch=start_step, prefetch_batches=prefetch_batches)

    def evaluation_input_fn(split):
        return lambda: make_dataset(data_dir, split, **common)

    input_fns = {"train": train_input_fn, "test": evaluation_input_fn("test")}
    if validation_size:
        input_fns["validation"] = evaluation_input_fn("validation")
    return input_fns


def make_imagenet_input_fns(data_dir, batch_size, image_size=224, num_classes=None, examples_per_class=None,
                            source="jpeg", seed=None, augment=None, prefetch_batches=PREFETCH_AUTOTUNE):
    """Input functions "train" (random resized crops, shuffled, repeated, full batches, then ``augment``) and
    "test" (ImageNet's validation split, center crops, read once in order) over ``make_imagenet_dataset``."""
    common = dict(batch_size=batch_size, image_size=image_size, num_classes=num_classes,
                  examples_per_class=examples_per_class, source=source, seed=seed, prefetch_batches=prefetch_batches)

    def train_input_fn():
        return _with_augment(imagenet.make_imagenet_dataset(data_dir, _IMAGENET_SPLITS["train"], shuffle=True,
                                                            repeat=True, drop_remainder=True, **common), augment,
                             prefetch_batches=prefetch_batches)

    def test_input_fn():
        return imagenet.make_imagenet_dataset(data_dir, _IMAGENET_SPLITS["test"], **common)

    return {"train": train_input_fn, "test": test_input_fn}


def dataset_class_names(dataset, data_dir=None, num_classes=None, source="jpeg"):
    """The class names of ``dataset``; for ImageNet, those of the first ``num_classes`` wnids (all: None) of the
    tree in ``data_dir`` (or of its TFRecord manifest with ``source="tfrecord"``)."""
    if dataset != IMAGENET:
        return get_dataset_spec(dataset).class_names
    if source == "tfrecord":
        names = tuple(imagenet.read_manifest(data_dir, _IMAGENET_SPLITS["train"])["names"])
    else:
        names = imagenet.read_class_index(data_dir).names
    layout.check_subset(num_classes, None, len(names))
    return names[:num_classes]


def dataset_image_shape(dataset, image_size=224):
    """(height, width, channels) of the images the input functions of ``dataset`` yield."""
    if dataset == IMAGENET:
        return (image_size, image_size, 3)
    return (IMAGE_HEIGHT, IMAGE_WIDTH, 1)
