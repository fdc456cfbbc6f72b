"""The Estimator's ``model_fn`` for any registered model: seeded weights and a fresh optimizer.

``Estimator(make_model_fn("convnet", "sgd", 0.001, seed=42), model_dir=...)``.
"""

import contextlib

import keras

from fmnist_tf import estimator, models
from fmnist_tf.data import dataset_image_shape
from fmnist_tf.training.optimizers import make_optimizer

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


def model_params(dataset, num_classes, image_size=224, weights_path=None):
    """The builder's keywords for a model of ``dataset``'s images (ImageNet's at ``image_size``) and
    ``num_classes`` classes; ``weights_path`` (local ImageNet weights of a keras.applications
    backbone) when given."""
    params = {"num_classes": num_classes, "input_shape": dataset_image_shape(dataset, image_size)}
    if weights_path:
        params["weights_path"] = weights_path
    return params


def make_training_optimizer(optimizer_name, learning_rate, loss_scale=False, **optimizer_options):
    """``make_optimizer``'s optimizer, wrapped to scale the loss against float16's underflow if
    ``loss_scale``."""
    optimizer = make_optimizer(optimizer_name, learning_rate, **optimizer_options)
    if loss_scale:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def make_model_fn(model_name, optimizer_name, learning_rate, seed=None, label_smoothing=0.0,
                  dtype="float32", fine_tuning=None, initial_step=0, loss_scale=None,
                  **optimizer_options):
    """Returns ``model_fn(params)``; ``params`` are passed to the model builder as keywords.

    ``learning_rate`` may be a schedule; ``optimizer_options`` are ``make_optimizer``'s keywords;
    ``dtype`` is the compute dtype; ``loss_scale`` (default: with float16) scales the loss against
    underflow, and a float32 model restoring a float16 run's checkpoint needs it too. With
    ``fine_tuning`` (``fmnist_tf.training.fine_tuning.FineTuning``) the backbone is frozen or
    unfrozen, and the optimizer at the first or the fine-tuning learning rate, as the phase of
    ``initial_step`` (the model_dir's global step) wants.
    """
    if dtype not in DTYPE_POLICIES:
        raise ValueError(f"unknown dtype {dtype!r}; expected one of {sorted(DTYPE_POLICIES)}")
    if loss_scale is None:
        loss_scale = dtype == "float16"

    def model_fn(params):
        if seed is not None:
            keras.utils.set_random_seed(seed)
        with dtype_policy(dtype):
            model = models.build(model_name, **(params or {}))
        rate = learning_rate
        if fine_tuning is not None:
            fine_tuned = fine_tuning.fine_tuned_at(initial_step)
            fine_tuning.set_trainable(model, fine_tuned)
            rate = fine_tuning.learning_rate if fine_tuned else learning_rate
        optimizer = make_training_optimizer(optimizer_name, rate, loss_scale, **optimizer_options)
        return estimator.EstimatorSpec(model=model, optimizer=optimizer,
                                       label_smoothing=label_smoothing)

    return model_fn
