"""Optimizers by name with their shared options, learning-rate schedules, and Ranger's two halves."""

import numpy as np
import pytest
import tensorflow as tf

from fmnist_tf.training.optimizers import OPTIMIZERS, make_optimizer
from fmnist_tf.training.ranger import Ranger
from fmnist_tf.training.schedules import make_schedule


def apply_constant_gradient(optimizer, variable, gradient, steps):
    for _ in range(steps):
        optimizer.apply_gradients([(tf.constant(gradient), variable)])
    return float(variable.numpy())


# |x| after 200 steps of rate 0.05 on x**2 from x = 3, measured: sgd 2e-9, momentum 4e-6, nesterov 1e-9,
# adam and adamw 2e-4, rmsprop 0.018, ranger 1.41 (RAdam's warm-up, then Lookahead's slow weights). Each
# ceiling leaves a margin a broken optimizer (no step, a wrong sign, a rate ten times too small) does not reach.
QUADRATIC_CEILINGS = {"sgd": 1e-6, "momentum": 1e-4, "nesterov": 1e-6, "adam": 2e-3, "adamw": 2e-3,
                      "rmsprop": 0.05, "ranger": 1.6}


def test_every_optimizer_has_a_ceiling():
    assert sorted(QUADRATIC_CEILINGS) == sorted(OPTIMIZERS)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_lowers_a_quadratic_as_far_as_measured(name):
    variable = tf.Variable(3.0)
    optimizer = make_optimizer(name, 0.05)
    for _ in range(200):
        with tf.GradientTape() as tape:
            loss = tf.square(variable)
        optimizer.apply_gradients([(tape.gradient(loss, variable), variable)])
    assert abs(float(variable.numpy())) < QUADRATIC_CEILINGS[name]


def test_nesterov_weight_decay_and_clipping_reach_the_keras_optimizer():
    optimizer = make_optimizer("nesterov", 0.1, weight_decay=5e-4, clip_norm=1.0, ema_momentum=0.99,
                               gradient_accumulation_steps=2)
    assert optimizer.nesterov and optimizer.momentum == 0.9
    assert optimizer.weight_decay == 5e-4 and optimizer.global_clipnorm == 1.0
    assert optimizer.use_ema and optimizer.ema_momentum == 0.99
    assert optimizer.gradient_accumulation_steps == 2


def test_clip_norm_bounds_the_step():
    variable = tf.Variable(0.0)
    # A gradient of 100 clipped to norm 1: plain SGD at rate 0.1 moves by 0.1, not 10.
    optimizer = make_optimizer("sgd", 0.1, clip_norm=1.0)
    assert apply_constant_gradient(optimizer, variable, 100.0, 1) == pytest.approx(-0.1)


def test_unknown_optimizer_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown optimizer 'adagrad'.*ranger"):
        make_optimizer("adagrad", 0.1)


def test_warmup_then_cosine_rises_linearly_then_falls_to_the_final_fraction():
    schedule = make_schedule("cosine", 0.1, total_steps=110, warmup_steps=10, final_fraction=0.01)
    rates = [float(schedule(step)) for step in (0, 4, 9, 10, 60, 110, 200)]
    np.testing.assert_allclose(rates, [0.01, 0.05, 0.1, 0.1, 0.1 * (0.01 + 0.99 * 0.5), 0.001, 0.001], rtol=1e-5)


def test_step_schedule_divides_by_ten_at_half_and_three_quarters():
    schedule = make_schedule("step", 0.1, total_steps=100)
    rates = [float(schedule(step)) for step in (0, 49, 50, 74, 75, 99)]
    np.testing.assert_allclose(rates, [0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rtol=1e-5)


def test_a_constant_rate_without_warmup_stays_a_float():
    assert make_schedule("constant", 0.1, total_steps=100) == 0.1


@pytest.mark.parametrize("kind, warmup_steps, message", [
    ("linear", 0, "unknown learning-rate schedule 'linear'"),
    ("cosine", 100, "warmup_steps is 100; expected 0 <= warmup_steps < total_steps \\(100\\)"),
])
def test_bad_schedules_are_refused(kind, warmup_steps, message):
    with pytest.raises(ValueError, match=message):
        make_schedule(kind, 0.1, total_steps=100, warmup_steps=warmup_steps)


def test_the_optimizer_follows_its_schedule_by_iteration():
    optimizer = make_optimizer("sgd", make_schedule("step", 1.0, total_steps=4, step_boundaries=(0.5,)))
    variable = tf.Variable(0.0)
    # Rates 1, 1, 0.1, 0.1 on a gradient of 1: -1, -2, -2.1, -2.2.
    assert [apply_constant_gradient(optimizer, variable, 1.0, 1) for _ in range(4)] == pytest.approx(
        [-1.0, -2.0, -2.1, -2.2])


def test_ranger_starts_as_momentum_sgd_and_lookahead_pulls_back_every_sync_period():
    variable = tf.Variable(1.0)
    optimizer = Ranger(learning_rate=0.1, sync_period=5, slow_step_size=0.5)
    # RAdam's first steps (too few degrees of freedom to rectify) move by lr * m_hat = 0.1 * 2.
    assert apply_constant_gradient(optimizer, variable, 2.0, 1) == pytest.approx(0.8)
    # Four more such steps reach 0.0; Lookahead then sets both weights halfway back to the start, 0.5.
    assert apply_constant_gradient(optimizer, variable, 2.0, 4) == pytest.approx(0.5)


def test_ranger_converges_and_its_state_is_in_checkpoints(tmp_path):
    variable = tf.Variable([3.0, -2.0])
    # beta_2 0.99: RAdam's rectifier then reaches full strength within a few hundred steps, not thousands.
    optimizer = Ranger(learning_rate=0.05, beta_2=0.99)
    for _ in range(400):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(variable - [1.0, 1.0]))
        optimizer.apply_gradients([(tape.gradient(loss, variable), variable)])
    np.testing.assert_allclose(variable.numpy(), [1.0, 1.0], atol=0.05)
    path = tf.train.Checkpoint(optimizer=optimizer, variable=variable).save(str(tmp_path / "ckpt"))
    restored_optimizer, restored_variable = Ranger(learning_rate=0.05, beta_2=0.99), tf.Variable([0.0, 0.0])
    restored_optimizer.build([restored_variable])
    tf.train.Checkpoint(optimizer=restored_optimizer, variable=restored_variable).restore(path).assert_consumed()
    assert int(restored_optimizer.iterations.numpy()) == 400
    np.testing.assert_allclose(restored_optimizer._slow_weights[0].numpy(), optimizer._slow_weights[0].numpy())
