"""How the Estimator calls an ``input_fn``: TF1's arity rule, the step a resumed run starts from,
build inputs."""

import functools
import inspect

import tensorflow as tf


def takes_input_context(input_fn):
    """TF1's rule, by arity: an ``input_fn`` with one required parameter receives the
    InputContext."""
    required = [parameter for parameter in inspect.signature(input_fn).parameters.values()
                if parameter.default is inspect.Parameter.empty
                and parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)]
    return len(required) == 1


def starting_at(input_fn, step):
    """A training ``input_fn`` with a ``start_step`` parameter is told the global step training
    starts from, so the batches it gives continue, not restart, the data
    (``fmnist_tf.data.make_input_fns``)."""
    if "start_step" in inspect.signature(input_fn).parameters:
        return functools.partial(input_fn, start_step=step)
    return input_fn


def zeros_for_spec(spec):
    return tf.zeros([1 if size is None else size for size in spec.shape], spec.dtype)
