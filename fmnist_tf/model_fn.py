"""The Estimator's ``model_fn`` for any registered model: seeded weights and a fresh optimizer.

``Estimator(make_model_fn("convnet", "sgd", 0.001, seed=42), model_dir=...)``.
"""

import keras

from fmnist_tf import estimator, models
from fmnist_tf.optimizers import make_optimizer


def make_model_fn(model_name, optimizer_name, learning_rate, seed=None, **optimizer_options):
    """Returns ``model_fn(params)``; ``params`` are passed to the model builder as keywords.

    ``learning_rate`` may be a schedule; ``optimizer_options`` are ``make_optimizer``'s keywords.
    """

    def model_fn(params):
        if seed is not None:
            keras.utils.set_random_seed(seed)
        return estimator.EstimatorSpec(model=models.build(model_name, **(params or {})),
                                       optimizer=make_optimizer(optimizer_name, learning_rate, **optimizer_options))

    return model_fn
