"""Small models for CPUs: LeNet-5 as LeCun et al. (1998) drew it, and a fast BatchNorm CNN.

``lenet5()`` (61,706 parameters) and ``small_cnn()`` return uncompiled Keras models taking raw
uint8 pixels [B, 28, 28, 1] and returning logits.
"""

import keras
from keras import layers

from fmnist_tf.models.norm import batch_norm
from fmnist_tf.models.pixels import standardized_pixels


def lenet5(num_classes=10, input_shape=(28, 28, 1)):
    """C1-S2-C3-S4-C5-F6 with tanh and average pooling; C1 pads the 28x28 input to the paper's
    32x32."""
    pixels, x = standardized_pixels(input_shape)
    x = layers.Conv2D(6, 5, padding="same", activation="tanh", name="c1")(x)   # [B, 28, 28, 6]
    x = layers.AveragePooling2D(2, name="s2")(x)                              # [B, 14, 14, 6]
    x = layers.Conv2D(16, 5, activation="tanh", name="c3")(x)                 # [B, 10, 10, 16]
    x = layers.AveragePooling2D(2, name="s4")(x)                              # [B, 5, 5, 16]
    x = layers.Conv2D(120, 5, activation="tanh", name="c5")(x)                # [B, 1, 1, 120]
    x = layers.Flatten(name="c5_flat")(x)                                     # [B, 120]
    x = layers.Dense(84, activation="tanh", name="f6")(x)                     # [B, 84]
    logits = layers.Dense(num_classes, name="logits")(x)                      # [B, 10]
    return keras.Model(pixels, logits, name="lenet5")


def _conv_bn_relu(x, filters, name):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = batch_norm(f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def small_cnn(num_classes=10, input_shape=(28, 28, 1), widths=(32, 64, 128), dropout_rate=0.3):
    """Two 3x3 conv-BN-ReLU per stage, max-pooling between stages, global average pooling, one
    dense.

    With the default widths: 289,066 parameters (a tenth of the convnet's) and about 29M
    multiply-adds per image.
    """
    pixels, x = standardized_pixels(input_shape)
    for stage, filters in enumerate(widths, start=1):
        if stage > 1:
            x = layers.MaxPooling2D(2, name=f"pool{stage - 1}")(x)    # [B, 14, 14, .], [B, 7, 7, .]
        x = _conv_bn_relu(x, filters, f"stage{stage}_a")              # [B, 28, 28, 32] at stage 1
        x = _conv_bn_relu(x, filters, f"stage{stage}_b")
    x = layers.GlobalAveragePooling2D(name="pool")(x)                 # [B, widths[-1]]
    x = layers.Dropout(dropout_rate, name="dropout")(x)
    logits = layers.Dense(num_classes, name="logits")(x)              # [B, 10]
    return keras.Model(pixels, logits, name="small_cnn")


def fast_cnn(num_classes=10, input_shape=(28, 28, 1), widths=(32, 64, 128), dense_units=256,
             dropout_rate=0.3):
    """Two 3x3 conv+ReLU per stage, max-pooling after each, a dense layer: small_cnn without
    BatchNorm.

    On CPUs the BatchNorm and separate ReLU passes over every activation cost more than the
    convolutions (small_cnn trains 4x slower in bfloat16); here each ReLU is fused into its
    convolution. With the default widths: 584,170 parameters.
    """
    pixels, x = standardized_pixels(input_shape)
    for stage, filters in enumerate(widths, start=1):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{stage}a")(x)
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{stage}b")(x)
        x = layers.MaxPooling2D(2, name=f"pool{stage}")(x)                # [B, 14, 14, .], 7x7, 3x3
    x = layers.Flatten(name="flatten")(x)                                 # [B, 9 * widths[-1]]
    x = layers.Dropout(dropout_rate, name="dropout1")(x)
    x = layers.Dense(dense_units, activation="relu", name="dense")(x)     # [B, dense_units]
    x = layers.Dropout(dropout_rate, name="dropout")(x)
    logits = layers.Dense(num_classes, name="logits")(x)                  # [B, 10]
    return keras.Model(pixels, logits, name="fast_cnn")
