"""Model registry: ``build(name, **params)`` returns an uncompiled ``keras.Model`` with logits out.

A dict is the registry; each builder takes raw uint8 pixels and knows nothing of training.
"""

from fmnist_tf.models.convnet import convnet

MODELS = {
    "convnet": convnet,
}


def build(name, **params):
    """Builds the model registered as ``name`` with the builder's keyword ``params``."""
    try:
        builder = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}") from None
    return builder(**params)
