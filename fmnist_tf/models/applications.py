"""keras.applications backbones (ResNet50, EfficientNetB0, ...) as models here: raw uint8 pixels in, logits out.

``application("resnet50", num_classes=10, input_shape=(28, 28, 1))``; ``weights_path`` loads Keras's ImageNet
weights from a local file (never a download). ``freeze_backbone(model)``, then ``unfreeze_backbone(model, 3)``
(the top 3 blocks) or ``unfreeze_backbone(model)`` (all), for transfer learning; recompile after each.
"""

import dataclasses
import os
import re
import warnings

import keras
from keras import layers, ops

# The smallest side keras.applications accepts without a top.
MIN_IMAGE_SIZE = 32
BACKBONE_NAME = "backbone"
STEM_BLOCK = "stem"
_RESNET_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
_EFFICIENTNET_WEIGHTS_URL = "https://storage.googleapis.com/keras-applications/"
# The standard deviations that Keras's EfficientNet ImageNet weights file stores as its Normalization variance.
EFFICIENTNET_IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)


@dataclasses.dataclass(frozen=True)
class Application:
    """A keras.applications backbone: its constructor, preprocess_input, block names and ImageNet weights file."""

    constructor: object
    preprocess_input: object
    block_pattern: str  # a layer belongs to the block its name starts with; other layers to the stem
    weights_url: str  # Keras's ImageNet weights without the classifier ("notop")

    @property
    def weights_file_name(self):
        return self.weights_url.rsplit("/", 1)[1]


def _resnet(constructor, depth):
    return Application(constructor, keras.applications.resnet.preprocess_input, r"conv\d_block\d+",
                       f"{_RESNET_WEIGHTS_URL}resnet{depth}_weights_tf_dim_ordering_tf_kernels_notop.h5")


def _efficientnet(variant):
    constructor = getattr(keras.applications, f"EfficientNetB{variant}")
    return Application(constructor, keras.applications.efficientnet.preprocess_input, r"block\d[a-z]|top",
                       f"{_EFFICIENTNET_WEIGHTS_URL}efficientnetb{variant}_notop.h5")


APPLICATIONS = {
    "resnet50": _resnet(keras.applications.ResNet50, 50),
    "resnet101": _resnet(keras.applications.ResNet101, 101),
    "resnet152": _resnet(keras.applications.ResNet152, 152),
    **{f"efficientnet_b{variant}": _efficientnet(variant) for variant in range(8)},
}


class WeightsFileError(ValueError):
    """A weights file that is missing or does not fit the backbone; the message names the file Keras publishes."""


def _get_application(name):
    try:
        return APPLICATIONS[name]
    except KeyError:
        raise ValueError(f"unknown application {name!r}; expected one of {sorted(APPLICATIONS)}") from None


@keras.saving.register_keras_serializable(package="fmnist_tf")
class ApplicationPreprocessing(layers.Layer):
    """The application's ``preprocess_input`` on float 0-255 RGB.

    A 1-channel image goes through it as its gray RGB replica and is averaged back to one channel: the gray
    counterpart of the application's own preprocessing (caffe: minus the mean of the channel means).
    """

    def __init__(self, application, **kwargs):
        super().__init__(**kwargs)
        self.application = application
        self._preprocess_input = _get_application(application).preprocess_input

    def call(self, images):
        if images.shape[-1] == 1:
            rgb = ops.concatenate([images] * 3, axis=-1)
            return ops.mean(self._preprocess_input(rgb), axis=-1, keepdims=True)
        return self._preprocess_input(images)

    def get_config(self):
        return {**super().get_config(), "application": self.application}


def _at_least_min_size(x, height, width):
    """Zero-pads (black, Fashion-MNIST's background) each side below ``MIN_IMAGE_SIZE``, centering the image."""
    pad_height, pad_width = max(MIN_IMAGE_SIZE - height, 0), max(MIN_IMAGE_SIZE - width, 0)
    if not pad_height and not pad_width:
        return x
    padding = ((pad_height // 2, pad_height - pad_height // 2), (pad_width // 2, pad_width - pad_width // 2))
    return layers.ZeroPadding2D(padding, name="pad")(x)


def _fold_efficientnet_stddev(backbone):
    """Keras's EfficientNet file stores the ImageNet standard deviations as the Normalization variance, and
    ``weights="imagenet"`` adds a Rescaling by 1/sqrt(stddev) to compensate (tensorflow#49930); a backbone built
    with ``weights=None`` lacks it, so the factor is folded into the variance instead."""
    normalization = next(layer for layer in backbone.layers if isinstance(layer, layers.Normalization))
    normalization.adapt_variance.assign(normalization.adapt_variance * EFFICIENTNET_IMAGENET_STDDEV_RGB)
    normalization.finalize_state()


def load_imagenet_weights(backbone, name, weights_path):
    """Loads Keras's ImageNet weights for application ``name`` from the local ``weights_path`` into ``backbone``."""
    spec = _get_application(name)
    expected = f"expected Keras's {spec.weights_file_name} ({spec.weights_url})"
    if not os.path.isfile(weights_path):
        raise WeightsFileError(f"{weights_path}: no such weights file; {expected}")
    # A legacy .h5 that does not fit raises; a .weights.h5 only warns, leaving weights at their random start.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            backbone.load_weights(weights_path)
        except ValueError as error:
            caught.append(error)
    if caught:
        problem = str(getattr(caught[0], "message", caught[0])).splitlines()[0]
        raise WeightsFileError(f"{weights_path} does not fit {name} without its top ({problem}); {expected}")
    if name.startswith("efficientnet"):
        _fold_efficientnet_stddev(backbone)


def application(name, num_classes=10, input_shape=(28, 28, 1), weights_path=None, image_size=None,
                dropout_rate=0.2):
    """``name``'s backbone under pixels-to-float, resize or pad, preprocess_input; and a pool-dropout-logits head.

    ``image_size`` resizes the input to a square (ImageNet weights see 224 px); without it, sides under 32 px
    are zero-padded to 32. A gray input is replicated to RGB only when ``weights_path`` (ImageNet weights)
    is given; otherwise the backbone gets a 1-channel stem. With ImageNet weights the backbone runs with
    ``training=False``: its BatchNorm keeps the ImageNet statistics even once unfrozen.
    """
    spec = _get_application(name)
    height, width, channels = input_shape
    pixels = keras.Input(shape=input_shape, dtype="uint8", name="pixels")
    x = layers.Rescaling(1.0, name="to_float")(pixels)                          # [B, 28, 28, 1] float32
    if image_size:
        x = layers.Resizing(image_size, image_size, name="resize")(x)           # [B, S, S, 1]
    else:
        x = _at_least_min_size(x, height, width)                                 # [B, 32, 32, 1]
    if channels == 1 and weights_path:
        x = layers.Concatenate(name="gray_to_rgb")([x, x, x])                   # [B, 32, 32, 3]
    x = ApplicationPreprocessing(name, name="preprocess")(x)
    backbone = spec.constructor(include_top=False, weights=None, input_shape=tuple(x.shape[1:]),
                                name=BACKBONE_NAME)
    if weights_path:
        load_imagenet_weights(backbone, name, weights_path)
        x = backbone(x, training=False)                                          # [B, 1, 1, 2048] at 32 px
    else:
        x = backbone(x)
    x = layers.GlobalAveragePooling2D(name="head_pool")(x)                      # [B, 2048] (ResNet50)
    x = layers.Dropout(dropout_rate, name="head_dropout")(x)
    logits = layers.Dense(num_classes, name="logits")(x)                        # [B, num_classes]
    return keras.Model(pixels, logits, name=name)


def backbone_blocks(model):
    """The backbone's blocks, bottom to top, as (block name, [layers]); layers before the first block are the stem."""
    pattern = re.compile(_get_application(model.name).block_pattern)
    blocks = {}
    for layer in model.get_layer(BACKBONE_NAME).layers:
        match = pattern.match(layer.name)
        blocks.setdefault(match.group(0) if match else STEM_BLOCK, []).append(layer)
    return list(blocks.items())


def _set_trainable_throughout(layer, trainable):
    # Keras on TensorFlow skips assigning the value an attribute already holds (KerasAutoTrackable.__setattr__),
    # and with it the setter that passes the value down to every sublayer; the opposite value first forces it.
    layer.trainable = not trainable
    layer.trainable = trainable


def freeze_backbone(model):
    """Makes the whole backbone untrainable; its BatchNorm layers then run in inference mode (Keras 3 semantics)."""
    _set_trainable_throughout(model.get_layer(BACKBONE_NAME), False)


def unfreeze_backbone(model, num_blocks=None):
    """Makes the top ``num_blocks`` blocks of the backbone trainable, or all of it when None; the rest stays frozen."""
    _set_trainable_throughout(model.get_layer(BACKBONE_NAME), True)
    if num_blocks is None:
        return
    blocks = backbone_blocks(model)
    if not 0 <= num_blocks <= len(blocks):
        raise ValueError(f"num_blocks is {num_blocks}; expected 0 to {len(blocks)} (the blocks of {model.name})")
    for index, (_, block_layers) in enumerate(blocks):
        for layer in block_layers:
            layer.trainable = index >= len(blocks) - num_blocks
