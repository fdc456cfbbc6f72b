"""What the training log and summaries say between compiled calls: when to report, the time left,
the rate."""

import tensorflow as tf


def time_left(step, goal, steps_per_second):
    """``"; step 400 of 1200, about 1 min 40 s of training left"`` at the current rate; empty
    without a goal."""
    if not goal or step >= goal:
        return ""
    minutes, seconds = divmod(round((goal - step) / steps_per_second), 60)
    left = f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
    return f"; step {step} of {goal}, about {left} of training left"


def crossed_multiple(previous_step, step, every):
    """True when a multiple of ``every`` lies in ``(previous_step, step]``: one call runs many
    steps."""
    return step // every > previous_step // every


def current_learning_rate(optimizer):
    """The learning rate now (a schedule is evaluated at the optimizer's iterations); None if
    none."""
    learning_rate = getattr(optimizer, "learning_rate", None)
    return None if learning_rate is None else float(tf.convert_to_tensor(learning_rate))
