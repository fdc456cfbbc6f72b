"""TensorFlow's two CPU thread pools, sized from ``--inter_op_threads`` and ``--intra_op_threads``.

``size_thread_pools(inter_op_threads=0, intra_op_threads=1)`` before the first TensorFlow op; 0
keeps TensorFlow's choice, one thread per core. benchmark/fast_paths.py measures what each size
costs.
"""

import tensorflow as tf

_THREADING = tf.config.threading


def size_thread_pools(inter_op_threads, intra_op_threads):
    """Sizes both pools, or raises RuntimeError naming the flag when TensorFlow has already fixed
    them.

    The pools are made with TensorFlow's first op and never resized; a silent no-op would leave a
    user measuring a setting that never took effect.
    """
    pools = (("inter_op_threads", inter_op_threads, _THREADING.get_inter_op_parallelism_threads,
              _THREADING.set_inter_op_parallelism_threads),
             ("intra_op_threads", intra_op_threads, _THREADING.get_intra_op_parallelism_threads,
              _THREADING.set_intra_op_parallelism_threads))
    for name, wanted, get_threads, set_threads in pools:
        if get_threads() == wanted:
            continue
        try:
            set_threads(wanted)
        except RuntimeError as error:
            raise RuntimeError(f"--{name}={wanted}: TensorFlow has already started in this "
                               f"process with {get_threads()} (0: one per core); set it before "
                               "the first TensorFlow op") from error


def describe_thread_pools():
    """``"inter-op 0, intra-op 1"``: the pools' sizes as set (0: TensorFlow's choice, one per
    core)."""
    return (f"inter-op {_THREADING.get_inter_op_parallelism_threads()}, "
            f"intra-op {_THREADING.get_intra_op_parallelism_threads()}")
