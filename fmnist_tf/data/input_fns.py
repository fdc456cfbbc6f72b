"""Estimator input functions over the dataset files: zero-argument callables returning datasets.

``make_input_fns(data_dir, batch_size=400)["train"]()`` is the shuffled, repeated training set.
"""

import tensorflow as tf

from fmnist_tf.data.pipeline import make_dataset


def make_input_fns(data_dir, batch_size, source="memory", validation_size=0, seed=None, augment=None):
    """Input functions keyed by split: "train", "test", and "validation" when one is held out.

    Training input is shuffled, repeated and in full batches, then mapped through ``augment(images,
    labels)`` when given (``fmnist_tf.augment``); evaluation input is read once, in order.
    """
    common = dict(batch_size=batch_size, source=source, validation_size=validation_size, seed=seed)

    def train_input_fn():
        dataset = make_dataset(data_dir, "train", shuffle=True, repeat=True, drop_remainder=True, **common)
        if augment is None:
            return dataset
        # One call at a time: the augmentation layers draw from one seeded generator, in batch order.
        return dataset.map(augment).prefetch(tf.data.AUTOTUNE)

    def evaluation_input_fn(split):
        return lambda: make_dataset(data_dir, split, **common)

    input_fns = {"train": train_input_fn, "test": evaluation_input_fn("test")}
    if validation_size:
        input_fns["validation"] = evaluation_input_fn("validation")
    return input_fns
