"""The Estimator's ``model_fn`` for any registered model: seeded weights and a fresh optimizer.

``Estimator(make_model_fn("convnet", "sgd", 0.001, seed=42), model_dir=...)``.
"""

import keras

from fmnist_tf import estimator, models
from fmnist_tf.optimizers import make_optimizer


def make_model_fn(model_name, optimizer_name, learning_rate, seed=None):
    """Returns ``model_fn(params)``; ``params`` are passed to the model builder as keywords."""

    def model_fn(params):
        if seed is not None:
            keras.utils.set_random_seed(seed)
        return estimator.EstimatorSpec(model=models.build(model_name, **(params or {})),
                                       optimizer=make_optimizer(optimizer_name, learning_rate))

    return model_fn
