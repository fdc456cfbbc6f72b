"""The first layers of every model: raw uint8 pixels in, standardized floats out.

``pixels, x = standardized_pixels((28, 28, 1))``; scaling lives in the model, so exported and
quantized models take the dataset's raw bytes.
"""

import keras
from keras import layers

# Fashion-MNIST's training-set pixel mean and standard deviation, on the 0-1 scale.
FASHION_MNIST_MEAN = 0.2860
FASHION_MNIST_STD = 0.3530


def standardized_pixels(input_shape, mean=FASHION_MNIST_MEAN, std=FASHION_MNIST_STD):
    """Returns ``(input, x)``: a uint8 ``keras.Input`` and its pixels as ``(p / 255 - mean) /
    std``."""
    pixels = keras.Input(shape=input_shape, dtype="uint8", name="pixels")
    x = layers.Rescaling(1.0 / (255 * std), offset=-mean / std, name="standardize")(pixels)
    return pixels, x
