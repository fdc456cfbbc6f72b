"""The convnet of the classic TF1 Fashion-MNIST benchmark, layer for layer.

``convnet()`` returns an uncompiled Keras model taking raw uint8 pixels [B, 28, 28, 1] and
returning logits [B, 10]; it has 3,274,634 parameters, like the original ``tf.layers`` graph.
"""

import keras
from keras import layers


def convnet(num_classes=10, input_shape=(28, 28, 1), dropout_rate=0.4):
    """Builds conv5x5x32 - pool - conv5x5x64 - pool - dense1024 - dropout - logits."""
    pixels = keras.Input(shape=input_shape, dtype="uint8", name="pixels")
    # Scaling lives in the model so exported and quantized models take raw pixel bytes.
    x = layers.Rescaling(1.0 / 255, name="rescale")(pixels)                   # [B, 28, 28, 1]
    x = layers.Conv2D(32, 5, padding="same", activation="relu", name="conv1")(x)  # [B, 28, 28, 32]
    x = layers.MaxPooling2D(2, strides=2, name="pool1")(x)                    # [B, 14, 14, 32]
    x = layers.Conv2D(64, 5, padding="same", activation="relu", name="conv2")(x)  # [B, 14, 14, 64]
    x = layers.MaxPooling2D(2, strides=2, name="pool2")(x)                    # [B, 7, 7, 64]
    x = layers.Flatten(name="pool2_flat")(x)                                   # [B, 3136]
    x = layers.Dense(1024, activation="relu", name="dense")(x)                # [B, 1024]
    x = layers.Dropout(dropout_rate, name="dropout")(x)
    logits = layers.Dense(num_classes, name="logits")(x)                       # [B, 10]
    return keras.Model(pixels, logits, name="convnet")
