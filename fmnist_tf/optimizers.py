"""Keras optimizers by name, with the Estimator era's settings for the classic ones.

``make_optimizer("adam", learning_rate=1e-3)``.
"""

import keras


def make_optimizer(name, learning_rate):
    """Returns a fresh Keras optimizer; ``momentum`` is SGD with TF1's MomentumOptimizer default 0.9."""
    builders = {
        "sgd": lambda: keras.optimizers.SGD(learning_rate),
        "momentum": lambda: keras.optimizers.SGD(learning_rate, momentum=0.9),
        "adam": lambda: keras.optimizers.Adam(learning_rate),
        "adamw": lambda: keras.optimizers.AdamW(learning_rate),
        "rmsprop": lambda: keras.optimizers.RMSprop(learning_rate),
    }
    try:
        return builders[name]()
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {sorted(builders)}") from None
