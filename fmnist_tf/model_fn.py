"""The Estimator's ``model_fn`` for any registered model: seeded weights and a fresh optimizer.

``Estimator(make_model_fn("convnet", "sgd", 0.001, seed=42), model_dir=...)``.
"""

import contextlib

import keras

from fmnist_tf import estimator, models
from fmnist_tf.optimizers import make_optimizer

# Compute dtype -> Keras dtype policy. Variables stay float32 under both mixed policies, so a
# checkpoint trained in one restores into a model built in another (export builds float32).
DTYPE_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}


@contextlib.contextmanager
def dtype_policy(dtype):
    """Builds the layers made inside in ``dtype``; the global policy is restored afterwards."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(DTYPE_POLICIES[dtype])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def make_model_fn(model_name, optimizer_name, learning_rate, seed=None, label_smoothing=0.0, dtype="float32",
                  **optimizer_options):
    """Returns ``model_fn(params)``; ``params`` are passed to the model builder as keywords.

    ``learning_rate`` may be a schedule; ``optimizer_options`` are ``make_optimizer``'s keywords;
    ``dtype`` is the compute dtype (float16 also scales the loss against underflow).
    """
    if dtype not in DTYPE_POLICIES:
        raise ValueError(f"unknown dtype {dtype!r}; expected one of {sorted(DTYPE_POLICIES)}")

    def model_fn(params):
        if seed is not None:
            keras.utils.set_random_seed(seed)
        with dtype_policy(dtype):
            model = models.build(model_name, **(params or {}))
        optimizer = make_optimizer(optimizer_name, learning_rate, **optimizer_options)
        if dtype == "float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        return estimator.EstimatorSpec(model=model, optimizer=optimizer, label_smoothing=label_smoothing)

    return model_fn
