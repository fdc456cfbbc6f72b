"""ResNet-18/34, pre-activation ResNet and WideResNet-d-k, with a stem for 28-32 px inputs.

``resnet(18)``, ``resnet(34, preactivation=True)``, ``wide_resnet(28, 10)``: uncompiled Keras models
taking raw uint8 pixels [B, 28, 28, 1] and returning logits. The stem is one 3x3 convolution at full
resolution (no 7x7 stride-2 convolution and max-pooling: they would leave 7x7 after the stem).
"""

import keras
from keras import layers

from fmnist_tf.models.norm import batch_norm
from fmnist_tf.models.pixels import standardized_pixels

RESNET_BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
RESNET_WIDTHS = (64, 128, 256, 512)


def _conv(filters, strides, name, kernel_size=3):
    return layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False,
                         kernel_initializer="he_normal", name=name)


def _basic_block(x, filters, strides, name):
    """He et al. (2016a): conv-BN-ReLU-conv-BN, added to the (projected) input, then ReLU."""
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = _conv(filters, strides, f"{name}_shortcut", kernel_size=1)(x)
        shortcut = batch_norm(f"{name}_shortcut_bn")(shortcut)
    x = batch_norm(f"{name}_bn1")(_conv(filters, strides, f"{name}_conv1")(x))
    x = layers.ReLU(name=f"{name}_relu1")(x)
    x = batch_norm(f"{name}_bn2")(_conv(filters, 1, f"{name}_conv2")(x))
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([shortcut, x]))


def _preactivation_block(x, filters, strides, name, dropout_rate=0.0):
    """He et al. (2016b): BN-ReLU-conv-BN-ReLU-conv; a projection shortcut starts from the activated
    input."""
    activated = layers.ReLU(name=f"{name}_relu1")(batch_norm(f"{name}_bn1")(x))
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = _conv(filters, strides, f"{name}_shortcut", kernel_size=1)(activated)
    x = _conv(filters, strides, f"{name}_conv1")(activated)
    x = layers.ReLU(name=f"{name}_relu2")(batch_norm(f"{name}_bn2")(x))
    if dropout_rate:
        x = layers.Dropout(dropout_rate, name=f"{name}_dropout")(x)
    x = _conv(filters, 1, f"{name}_conv2")(x)
    return layers.Add(name=f"{name}_add")([shortcut, x])


def _stages(x, widths, blocks_per_stage, block, **block_params):
    for stage, (filters, num_blocks) in enumerate(zip(widths, blocks_per_stage), start=1):
        for index in range(num_blocks):
            strides = 2 if stage > 1 and index == 0 else 1
            x = block(x, filters, strides, f"stage{stage}_block{index + 1}", **block_params)
    return x


def _head(pixels, x, num_classes, name, activate_first):
    if activate_first:  # pre-activation networks end with the BN-ReLU their last block left out
        x = layers.ReLU(name="final_relu")(batch_norm("final_bn")(x))
    x = layers.GlobalAveragePooling2D(name="pool")(x)                          # [B, channels]
    logits = layers.Dense(num_classes, name="logits")(x)                       # [B, 10]
    return keras.Model(pixels, logits, name=name)


def resnet(depth=18, num_classes=10, input_shape=(28, 28, 1), preactivation=False):
    """ResNet-18 or -34 of basic blocks, stages of 64-128-256-512 channels at 28, 14, 7 and 4 px."""
    if depth not in RESNET_BLOCKS:
        raise ValueError(f"ResNet depth {depth}; expected one of {sorted(RESNET_BLOCKS)}")
    pixels, x = standardized_pixels(input_shape)
    x = _conv(RESNET_WIDTHS[0], 1, "stem_conv")(x)                             # [B, 28, 28, 64]
    if not preactivation:
        x = layers.ReLU(name="stem_relu")(batch_norm("stem_bn")(x))
    block = _preactivation_block if preactivation else _basic_block
    x = _stages(x, RESNET_WIDTHS, RESNET_BLOCKS[depth], block)                 # [B, 4, 4, 512]
    name = f"{'preact_' if preactivation else ''}resnet{depth}"
    return _head(pixels, x, num_classes, name, activate_first=preactivation)


def wide_resnet(depth=28, width=10, num_classes=10, input_shape=(28, 28, 1), dropout_rate=0.0):
    """WRN-depth-width (Zagoruyko and Komodakis, 2016): (depth - 4) / 6 pre-activation blocks per
    stage, stages of 16k-32k-64k channels at 28, 14 and 7 px."""
    if (depth - 4) % 6:
        raise ValueError(f"WideResNet depth {depth}; expected 6n + 4 (16, 22, 28, 40, ...)")
    pixels, x = standardized_pixels(input_shape)
    x = _conv(16, 1, "stem_conv")(x)                                           # [B, 28, 28, 16]
    widths = (16 * width, 32 * width, 64 * width)
    x = _stages(x, widths, [(depth - 4) // 6] * 3, _preactivation_block,
                dropout_rate=dropout_rate)                                     # [B, 7, 7, 64k]
    return _head(pixels, x, num_classes, f"wrn{depth}_{width}", activate_first=True)
