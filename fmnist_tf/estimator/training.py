"""TF1's ``train_and_evaluate``: train to ``max_steps``, evaluating every ``every_n_steps`` and at
the end.

``train_and_evaluate(estimator, TrainSpec(train_input_fn, max_steps=2000),
EvalSpec(eval_input_fn))``.
"""

import dataclasses
from collections.abc import Callable


@dataclasses.dataclass
class TrainSpec:
    input_fn: Callable
    max_steps: int


@dataclasses.dataclass
class EvalSpec:
    input_fn: Callable
    steps: int | None = None  # batches per evaluation; None: the whole input
    every_n_steps: int = 1000
    name: str | None = None


def train_and_evaluate(estimator, train_spec, eval_spec, monitors=()):
    """Alternates ``train(max_steps=next evaluation step)`` and ``evaluate``.

    Returns ``(final metrics, every evaluation's metrics in order)``; a model_dir already at
    ``max_steps`` is evaluated once. Training stops early if its input ends, or when one of the
    ``monitors`` (``fmnist_tf.estimator.monitors``) says so after an evaluation; after a SIGTERM it
    returns at once, without evaluating (final metrics None if nothing was evaluated).
    """
    if eval_spec.every_n_steps <= 0:
        raise ValueError(f"Must specify every_n_steps > 0, given: {eval_spec.every_n_steps}")
    evaluations = []
    step = estimator.global_step
    estimator.progress_goal = train_spec.max_steps
    while step < train_spec.max_steps:
        next_evaluation = min((step // eval_spec.every_n_steps + 1) * eval_spec.every_n_steps,
                              train_spec.max_steps)
        estimator.train(train_spec.input_fn, max_steps=next_evaluation)
        if estimator.stopped_by_sigterm:
            # checkpointed; the process is asked to end, not to evaluate
            return (evaluations[-1] if evaluations else None), evaluations
        previous_step, step = step, estimator.global_step
        if step == previous_step:
            break
        evaluations.append(estimator.evaluate(eval_spec.input_fn, steps=eval_spec.steps,
                                              name=eval_spec.name))
        stop_requests = [monitor.after_evaluation(estimator, evaluations[-1])
                         for monitor in monitors]
        if step < next_evaluation or any(stop_requests):
            break
    if not evaluations or evaluations[-1]["global_step"] != step:
        evaluations.append(estimator.evaluate(eval_spec.input_fn, steps=eval_spec.steps,
                                              name=eval_spec.name))
    return evaluations[-1], evaluations
