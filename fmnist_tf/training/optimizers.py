"""Keras optimizers by name, with the Estimator era's settings for the classic ones.

``make_optimizer("adam", learning_rate=1e-3)``; ``learning_rate`` may be a schedule
(``fmnist_tf.training.schedules``), and the options Keras optimizers share are keywords.
"""

import keras

from fmnist_tf.training.ranger import Ranger

# SGD's momentum for "momentum" and "nesterov": TF1's MomentumOptimizer users' usual 0.9.
MOMENTUM = 0.9
_BUILDERS = {
    "sgd": keras.optimizers.SGD,
    "momentum": lambda learning_rate, **options: keras.optimizers.SGD(learning_rate,
                                                                      momentum=MOMENTUM, **options),
    "nesterov": lambda learning_rate, **options: keras.optimizers.SGD(learning_rate,
                                                                      momentum=MOMENTUM,
                                                                      nesterov=True, **options),
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "rmsprop": keras.optimizers.RMSprop,
    "ranger": Ranger,
}
OPTIMIZERS = tuple(_BUILDERS)


def make_optimizer(name, learning_rate, weight_decay=None, clip_norm=None, ema_momentum=None,
                   gradient_accumulation_steps=None):
    """Returns a fresh Keras optimizer.

    ``weight_decay`` is decoupled (the weights shrink by ``learning_rate * weight_decay`` each
    step); ``clip_norm`` clips the global norm of the gradients; ``ema_momentum`` keeps an
    exponential moving average of the weights; ``gradient_accumulation_steps`` applies the mean
    gradient of that many batches.
    """
    if name not in _BUILDERS:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {sorted(_BUILDERS)}")
    options = {}
    if weight_decay:
        options["weight_decay"] = weight_decay
    if clip_norm:
        options["global_clipnorm"] = clip_norm
    if ema_momentum:
        options.update(use_ema=True, ema_momentum=ema_momentum)
    if gradient_accumulation_steps and gradient_accumulation_steps > 1:
        options["gradient_accumulation_steps"] = gradient_accumulation_steps
    return _BUILDERS[name](learning_rate, **options)
