"""Training-time augmentation with Keras core layers, run inside the tf.data pipeline on batches.

``augment = make_batch_augmenter(AugmentOptions(crop_padding=2, horizontal_flip=True),
num_classes=10, seed=1)``, then ``train_dataset.map(augment)``: uint8 images in and out, so the
model sees what it sees at test time; with MixUp or CutMix the labels come out as mixed one-hot rows
[B, classes]. ``augment(images, labels, batch_index)`` makes a batch's draws a function of (seed,
batch_index) alone.
"""

import dataclasses

import tensorflow as tf
from keras import layers

from fmnist_tf.estimator import step_seeds

PIXEL_RANGE = (0, 255)


@dataclasses.dataclass(frozen=True)
class AugmentOptions:
    """Each field off by default; all randomness comes from the augmenter's seed."""

    crop_padding: int = 0        # pad by this many pixels, then crop back to the size at random
    horizontal_flip: bool = False
    translation: float = 0.0     # largest shift, as a fraction of the height and width
    rotation: float = 0.0        # largest rotation, as a fraction of a full turn
                                 # (Keras's convention)
    random_erasing: float = 0.0  # probability that a rectangle of an image is erased
    rand_augment: bool = False   # RandAugment's default 2 operations at magnitude 0.5
    mixup: float = 0.0           # alpha of MixUp's Beta distribution (0: off)
    cutmix: float = 0.0          # alpha of CutMix's Beta distribution (0: off)

    @property
    def mixes_labels(self):
        return bool(self.mixup or self.cutmix)

    @property
    def enabled(self):
        return self != AugmentOptions()


def _image_layers(options, image_size, seed):
    """The per-image layers, in the order they run; each gets its own seed derived from ``seed``."""
    height, width = image_size
    chosen = []
    if options.crop_padding:
        chosen += [layers.ZeroPadding2D(options.crop_padding),
                   layers.RandomCrop(height, width, seed=seed)]
    if options.horizontal_flip:
        chosen.append(layers.RandomFlip("horizontal", seed=seed + 1))
    if options.translation:
        chosen.append(layers.RandomTranslation(options.translation, options.translation,
                                               fill_mode="constant", seed=seed + 2))
    if options.rotation:
        chosen.append(layers.RandomRotation(options.rotation, fill_mode="constant", seed=seed + 3))
    if options.rand_augment:
        chosen.append(layers.RandAugment(value_range=PIXEL_RANGE, seed=seed + 4))
    if options.random_erasing:
        chosen.append(layers.RandomErasing(factor=options.random_erasing, value_range=PIXEL_RANGE,
                                           seed=seed + 5))
    return chosen


def make_batch_augmenter(options, num_classes, seed, image_size=(28, 28)):
    """Returns ``augment(images, labels, batch_index=None)`` for batches of uint8 images [B, H, W,
    C] and integer labels [B].

    Without ``batch_index`` each call draws on from the layers' generators; with it, the draws
    depend on ``seed`` and ``batch_index`` only, so training resumed at batch ``s`` augments it as
    an uninterrupted run did. Either way the layers hold the generators' state: one call at a time.
    """
    image_layers = _image_layers(options, image_size, seed)
    mixers = []
    if options.mixup:
        mixers.append(layers.MixUp(alpha=options.mixup, seed=seed + 6))
    if options.cutmix:
        mixers.append(layers.CutMix(factor=options.cutmix, seed=seed + 7))
    seed_states = step_seeds.seed_generator_states(*image_layers, *mixers)

    def augment(images, labels, batch_index=None):
        if batch_index is not None:
            step_seeds.key_seed_generator_states(seed_states, batch_index)
        pixels = tf.cast(images, tf.float32)
        for layer in image_layers:
            pixels = layer(pixels, training=True)
        if mixers:
            labels = tf.one_hot(tf.cast(labels, tf.int32), num_classes)
            for mixer in mixers:
                mixed = mixer({"images": pixels, "labels": labels}, training=True)
                pixels, labels = mixed["images"], mixed["labels"]
        # Back to the bytes the model takes: interpolation and erasing leave fractions and stray
        # values.
        images = tf.cast(tf.clip_by_value(tf.round(pixels), *PIXEL_RANGE), tf.uint8)
        return images, labels

    return augment
