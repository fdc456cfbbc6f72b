"""The Fashion-MNIST class names, for a model that comes without its manifest.json.

A copy of ``fmnist_tf.data.catalog.FASHION_MNIST.class_names``, which the device cannot import (it
pulls in TensorFlow); a test checks the two are equal.
"""

FASHION_MNIST_CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
