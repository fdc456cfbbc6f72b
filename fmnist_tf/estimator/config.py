"""What the Estimator is told: ``RunConfig``, with TF1's names and defaults, and a model_fn's
``EstimatorSpec``."""

import dataclasses

import keras
import tensorflow as tf


@dataclasses.dataclass
class RunConfig:
    """Where and how often the Estimator saves, summarizes and logs; TF1's names and defaults."""
    model_dir: str | None = None
    save_checkpoints_steps: int = 1000
    keep_checkpoint_max: int = 5
    save_summary_steps: int = 100
    log_step_count_steps: int = 100
    steps_per_loop: int = 100  # training steps run inside one compiled call
    jit_compile: bool = False  # compile each training step with XLA
    train_distribute: tf.distribute.Strategy | None = None  # None: tf.distribute.get_strategy()
    tf_random_seed: int | None = None
    # Makes every op deterministic, process-wide and for good, and needs tf_random_seed: with an
    # input_fn that takes start_step, a resumed run then ends bitwise equal to an uninterrupted one
    # on the same machine.
    deterministic: bool = False
    # Given, training also writes a grid of its input images and each evaluation its confusion
    # matrix, per-class accuracy and worst misclassified images, named by these class names.
    class_names: tuple[str, ...] | None = None
    histogram_summaries: bool = False  # a histogram of every trainable weight at each summary step
    hparams: dict | None = None  # {name: value} of the run, for TensorBoard's HParams dashboard

    def __post_init__(self):
        for name in ("save_checkpoints_steps", "keep_checkpoint_max", "save_summary_steps",
                     "log_step_count_steps", "steps_per_loop"):
            if getattr(self, name) <= 0:
                raise ValueError(f"RunConfig.{name} must be > 0, given: {getattr(self, name)}")
        if self.deterministic and self.tf_random_seed is None:
            raise ValueError("RunConfig.deterministic needs a tf_random_seed, given: None")


@dataclasses.dataclass
class EstimatorSpec:
    """What ``model_fn(params)`` returns; it is called inside the strategy's scope."""
    model: keras.Model  # takes the features, returns logits
    optimizer: keras.optimizers.Optimizer
    label_smoothing: float = 0.0  # of the training loss; evaluation reports the plain cross-entropy
