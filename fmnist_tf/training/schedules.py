"""Learning-rate schedules by name, as functions of the global step: ``make_schedule("cosine", 0.1,
10000)``.

Each is a ``keras.optimizers.schedules.LearningRateSchedule`` that the optimizer evaluates at its
own iteration count, which the Estimator's checkpoint restores, so a resumed run continues the
schedule.
"""

import math

import keras
from keras import ops

SCHEDULES = ("constant", "cosine", "step")


@keras.saving.register_keras_serializable(package="fmnist_tf")
class WarmupThenDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 over ``warmup_steps``, then constant, cosine decay or step decay to
    ``total_steps``.

    "cosine" falls to ``base_rate * final_fraction`` at ``total_steps``; "step" multiplies the rate
    by ``step_factor`` at each fraction of the post-warm-up steps in ``step_boundaries``.
    """

    def __init__(self, kind, base_rate, total_steps, warmup_steps=0, final_fraction=0.0,
                 step_boundaries=(0.5, 0.75), step_factor=0.1):
        if kind not in SCHEDULES:
            raise ValueError(f"unknown learning-rate schedule {kind!r}; expected one of "
                             f"{SCHEDULES}")
        if not 0 <= warmup_steps < total_steps:
            raise ValueError(f"warmup_steps is {warmup_steps}; expected 0 <= warmup_steps < "
                             f"total_steps ({total_steps})")
        self.kind, self.base_rate, self.total_steps = kind, base_rate, total_steps
        self.warmup_steps, self.final_fraction = warmup_steps, final_fraction
        self.step_boundaries, self.step_factor = tuple(step_boundaries), step_factor

    def __call__(self, step):
        step = ops.cast(step, "float32")
        decay_steps = float(self.total_steps - self.warmup_steps)
        progress = ops.clip((step - self.warmup_steps) / decay_steps, 0.0, 1.0)
        if self.kind == "cosine":
            cosine = 0.5 * (1.0 + ops.cos(math.pi * progress))
            rate = self.base_rate * (self.final_fraction + (1.0 - self.final_fraction) * cosine)
        elif self.kind == "step":
            drops = sum(ops.cast(progress >= boundary, "float32")
                        for boundary in self.step_boundaries)
            rate = self.base_rate * ops.power(self.step_factor, drops)
        else:
            rate = self.base_rate * ops.ones_like(step)
        if self.warmup_steps:
            warming = step < self.warmup_steps
            rate = ops.where(warming, self.base_rate * (step + 1.0) / self.warmup_steps, rate)
        return rate

    def get_config(self):
        return {"kind": self.kind, "base_rate": self.base_rate, "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps, "final_fraction": self.final_fraction,
                "step_boundaries": self.step_boundaries, "step_factor": self.step_factor}


def make_schedule(kind, base_rate, total_steps, warmup_steps=0, **params):
    """The learning rate as a schedule; a plain float for a constant rate without warm-up."""
    if kind == "constant" and not warmup_steps:
        return base_rate
    return WarmupThenDecay(kind, base_rate, total_steps, warmup_steps, **params)
