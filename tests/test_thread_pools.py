"""--inter_op_threads / --intra_op_threads: set before TensorFlow starts, refused by name after."""

import pytest
import tensorflow as tf

from fmnist_tf.estimator.thread_pools import describe_thread_pools, size_thread_pools


def test_pools_already_made_are_not_resized_silently():
    tf.constant(1.0) + 1.0  # TensorFlow has started: its pools are made
    inter_op = tf.config.threading.get_inter_op_parallelism_threads()
    intra_op = tf.config.threading.get_intra_op_parallelism_threads()
    size_thread_pools(inter_op, intra_op)  # asking for what is there is fine
    with pytest.raises(RuntimeError, match=r"--intra_op_threads=%d: TensorFlow has already started" % (intra_op + 1)):
        size_thread_pools(inter_op, intra_op + 1)
    assert describe_thread_pools() == f"inter-op {inter_op}, intra-op {intra_op}"
