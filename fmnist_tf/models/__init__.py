"""Model registry: ``build(name, **params)`` returns an uncompiled ``keras.Model`` with logits out.

A dict is the registry; each builder takes raw uint8 pixels and knows nothing of training.
"""

import functools

from fmnist_tf.models import applications, resnet, small
from fmnist_tf.models.convnet import convnet

MODELS = {
    "convnet": convnet,
    "lenet5": small.lenet5,
    "small_cnn": small.small_cnn,
    "fast_cnn": small.fast_cnn,
    "resnet18": functools.partial(resnet.resnet, 18),
    "resnet34": functools.partial(resnet.resnet, 34),
    "preact_resnet18": functools.partial(resnet.resnet, 18, preactivation=True),
    "preact_resnet34": functools.partial(resnet.resnet, 34, preactivation=True),
    "wrn16_4": functools.partial(resnet.wide_resnet, 16, 4),
    "wrn28_10": functools.partial(resnet.wide_resnet, 28, 10),
    "wrn40_4": functools.partial(resnet.wide_resnet, 40, 4),
    "resnet50": functools.partial(applications.application, "resnet50"),
    "efficientnet_b0": functools.partial(applications.application, "efficientnet_b0"),
}


def build(name, **params):
    """Builds the model registered as ``name`` with the builder's keyword ``params``."""
    try:
        builder = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}") from None
    return builder(**params)
