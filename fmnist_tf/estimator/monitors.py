"""What ``train_and_evaluate`` does after each evaluation: lower the learning rate on a plateau,
stop early, stop at a target accuracy.

``train_and_evaluate(est, train_spec, eval_spec, monitors=[ReduceLearningRateOnPlateau(patience=2),
EarlyStopping(patience=4)])``. Their counts live in memory: a resumed run starts them afresh.
"""

import dataclasses

from absl import logging


@dataclasses.dataclass
class _PlateauWatch:
    """Counts evaluations since ``metric`` last improved by more than ``min_delta``."""
    patience: int
    metric: str = "loss"  # "accuracy" improves upwards, any other metric downwards
    min_delta: float = 0.0
    best: float | None = dataclasses.field(default=None, init=False)
    evaluations_without_improvement: int = dataclasses.field(default=0, init=False)

    def __post_init__(self):
        if self.patience < 1:
            raise ValueError(f"patience must be >= 1 evaluation, given: {self.patience}")

    def _observe(self, metrics):
        """Records this evaluation; True when ``patience`` evaluations in a row did not improve."""
        value = metrics[self.metric]
        sign = 1 if self.metric == "accuracy" else -1
        if self.best is None or sign * (value - self.best) > self.min_delta:
            self.best, self.evaluations_without_improvement = value, 0
        else:
            self.evaluations_without_improvement += 1
        return self.evaluations_without_improvement >= self.patience


@dataclasses.dataclass
class ReduceLearningRateOnPlateau(_PlateauWatch):
    """Multiplies a constant learning rate by ``factor`` when the metric stalls; the checkpoint
    keeps it."""
    factor: float = 0.1
    min_learning_rate: float = 0.0

    def after_evaluation(self, estimator, metrics):
        if self._observe(metrics):
            new_rate = max(estimator.learning_rate * self.factor, self.min_learning_rate)
            logging.info("%s did not improve for %d evaluations: learning rate %g -> %g",
                         self.metric, self.patience, estimator.learning_rate, new_rate)
            estimator.set_learning_rate(new_rate)
            self.evaluations_without_improvement = 0
        return False


@dataclasses.dataclass
class EarlyStopping(_PlateauWatch):
    """Ends training when the metric has not improved for ``patience`` evaluations."""

    def after_evaluation(self, estimator, metrics):
        if self._observe(metrics):
            logging.info("Stopping early at step %d: %s has not improved on %g for %d evaluations",
                         metrics["global_step"], self.metric, self.best, self.patience)
            return True
        return False


@dataclasses.dataclass
class StopAtAccuracy:
    """Ends training at the first evaluation whose accuracy reaches ``target`` (time-to-accuracy
    runs)."""
    target: float
    reached_at_step: int | None = dataclasses.field(default=None, init=False)
    # the Estimator's, then
    train_seconds: float | None = dataclasses.field(default=None, init=False)

    def after_evaluation(self, estimator, metrics):
        if metrics["accuracy"] < self.target:
            return False
        self.reached_at_step, self.train_seconds = metrics["global_step"], estimator.train_seconds
        logging.info("Accuracy %g reached the target %g at step %d after %.1f s of training",
                     metrics["accuracy"], self.target, self.reached_at_step, self.train_seconds)
        return True
