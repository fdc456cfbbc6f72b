"""The INT8 calibration set: a seeded sample of the training split, preprocessed as for evaluation.

``images = calibration_images("data/fashion", size=1000, seed=0)``, then
``representative_dataset(images)`` is what ``tf.lite.TFLiteConverter.representative_dataset`` takes.
"""

import numpy as np

from fmnist_tf.data import load_numpy

PIXEL_MIN, PIXEL_MAX = 0, 255


def calibration_images(data_dir, size, seed):
    """uint8 [size, 28, 28, 1]: ``size`` training images drawn without replacement, in file order.

    Evaluation preprocessing is the raw pixels: scaling lives inside the model, augmentation only in
    training.
    """
    images, _ = load_numpy(data_dir, "train")
    if not 0 < size <= len(images):
        raise ValueError(f"calibration size is {size}; expected 1 to {len(images)} (the training "
                         f"images in {data_dir})")
    indices = np.sort(np.random.default_rng(seed).choice(len(images), size=size, replace=False))
    return images[indices][..., np.newaxis]


def pin_pixel_range(images):
    """``images`` with a 0 and a 255 pixel somewhere, so the calibrated input range is exactly
    0-255.

    The quantizer sets the input's scale from the smallest and largest value it sees; the full range
    gives scale 1 and zero point 0, so a uint8 INT8 model takes raw pixel bytes. A sample of real
    Fashion-MNIST images always spans it; a small or synthetic one may not, and only then is one
    pixel of the first image changed.
    """
    if images.min() == PIXEL_MIN and images.max() == PIXEL_MAX:
        return images
    pinned = images.copy()
    pinned.reshape(len(images), -1)[0, :2] = (PIXEL_MIN, PIXEL_MAX)
    return pinned


def representative_dataset(images):
    """A generator function yielding each image as float32 [1, 28, 28, 1] pixel values 0-255."""
    pinned = pin_pixel_range(images)

    def generate():
        for image in pinned:
            yield [image[np.newaxis].astype(np.float32)]

    return generate
