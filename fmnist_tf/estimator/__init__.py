"""The Estimator-style training loop: TF1's Estimator API on a TF2 custom loop with tf.distribute.

``Estimator(model_fn, config=RunConfig(model_dir=...))``, then ``train`` / ``evaluate`` /
``predict`` / ``export_saved_model``, or ``train_and_evaluate(estimator, TrainSpec(...),
EvalSpec(...))``.
"""

from fmnist_tf.estimator.checkpoints import (CheckpointDamagedError, CheckpointMismatchError,
                                             latest_global_step)
from fmnist_tf.estimator.config import EstimatorSpec, RunConfig
from fmnist_tf.estimator.estimator import Estimator
from fmnist_tf.estimator.monitors import EarlyStopping, ReduceLearningRateOnPlateau, StopAtAccuracy
from fmnist_tf.estimator.training import EvalSpec, TrainSpec, train_and_evaluate

__all__ = ["CheckpointDamagedError", "CheckpointMismatchError", "EarlyStopping", "Estimator",
           "EstimatorSpec", "EvalSpec", "ReduceLearningRateOnPlateau", "RunConfig",
           "StopAtAccuracy", "TrainSpec", "latest_global_step", "train_and_evaluate"]
