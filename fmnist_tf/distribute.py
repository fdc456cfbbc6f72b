"""Turns the distribution flags' values into a ``tf.distribute.Strategy``.

``get_strategy("mirrored", num_gpus=2)``; ``"default"`` is TensorFlow's default strategy.
"""

import tensorflow as tf


def get_strategy(distribution_strategy="default", num_gpus=0):
    """Returns the strategy named by ``distribution_strategy`` over ``num_gpus`` GPUs (0: the CPUs)."""
    available_gpus = len(tf.config.list_physical_devices("GPU"))
    if num_gpus > available_gpus:
        raise ValueError(f"--num_gpus={num_gpus} but this machine has {available_gpus} GPU(s)")
    if distribution_strategy == "default":
        return tf.distribute.get_strategy()
    if distribution_strategy == "one_device":
        return tf.distribute.OneDeviceStrategy("/gpu:0" if num_gpus else "/cpu:0")
    if distribution_strategy == "mirrored":
        if num_gpus:
            return tf.distribute.MirroredStrategy([f"/gpu:{index}" for index in range(num_gpus)])
        cpus = [device.name for device in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(cpus)
    raise ValueError(f"unknown distribution_strategy {distribution_strategy!r}; "
                     "expected default, one_device or mirrored")
