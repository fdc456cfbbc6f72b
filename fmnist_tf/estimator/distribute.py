"""Turns the distribution flags' values into a ``tf.distribute.Strategy``.

``get_strategy("mirrored", num_gpus=2)``; ``"default"`` is TensorFlow's default strategy;
``get_strategy("multi_worker_mirrored", cluster=make_cluster_resolver(hosts, 0))`` joins a cluster.
A multi-worker strategy must be made before any other TensorFlow op runs in the process.
"""

import os

import tensorflow as tf

STRATEGIES = ("default", "one_device", "mirrored", "multi_worker_mirrored")
# The job every task of a cluster made from --worker_hosts belongs to; task 0 is the chief.
WORKER_JOB = "worker"


def get_strategy(distribution_strategy="default", num_gpus=0, cluster=None,
                 collective_timeout=None):
    """Returns the strategy named by ``distribution_strategy`` over ``num_gpus`` GPUs (0: the CPUs).

    For "multi_worker_mirrored", ``num_gpus`` is per worker, ``cluster`` is a ClusterResolver
    (default: ``make_cluster_resolver()``, from TF_CONFIG), and a collective op that waits more
    than ``collective_timeout`` seconds for the other workers fails instead of hanging.
    """
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
    if distribution_strategy == "multi_worker_mirrored":
        cluster = cluster or make_cluster_resolver()
        # The resolver says how many GPUs each worker drives; TF_CONFIG's would count them all.
        cluster = tf.distribute.cluster_resolver.SimpleClusterResolver(
            cluster.cluster_spec(), task_type=cluster.task_type, task_id=cluster.task_id,
            rpc_layer=cluster.rpc_layer or "grpc", num_accelerators={"GPU": num_gpus})
        return tf.distribute.MultiWorkerMirroredStrategy(
            cluster_resolver=cluster,
            communication_options=tf.distribute.experimental.CommunicationOptions(
                timeout_seconds=collective_timeout))
    raise ValueError(f"unknown distribution_strategy {distribution_strategy!r}; expected one of "
                     f"{STRATEGIES}")


def make_cluster_resolver(worker_hosts=(), task_index=None):
    """The cluster of ``worker_hosts`` ("host:port" each) as task ``task_index``, or TF_CONFIG's if
    none.

    The same ``worker_hosts`` on every machine, each with its own ``task_index``; task 0 is the
    chief.
    """
    if not worker_hosts:
        if task_index is not None:
            raise ValueError(f"--task_index={task_index} needs --worker_hosts")
        return tf.distribute.cluster_resolver.TFConfigClusterResolver()
    if os.environ.get("TF_CONFIG"):
        raise ValueError("both TF_CONFIG and --worker_hosts describe the cluster; "
                         "unset one of them")
    if task_index is None or not 0 <= task_index < len(worker_hosts):
        raise ValueError(f"--task_index is {task_index}; expected 0 <= task_index < "
                         f"{len(worker_hosts)} (the number of --worker_hosts)")
    return tf.distribute.cluster_resolver.SimpleClusterResolver(
        tf.train.ClusterSpec({WORKER_JOB: list(worker_hosts)}), task_type=WORKER_JOB,
        task_id=task_index, rpc_layer="grpc")

