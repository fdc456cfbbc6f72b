"""Estimator options beyond TF1's: reduce on plateau, early stopping, flip TTA, mixed precision."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fmnist_tf import estimator
from fmnist_tf.training.model_fn import make_model_fn
from test_estimator import EVAL_INPUT_FN, TRAIN_INPUT_FN, make_estimator, make_examples, make_input_fn


class ScriptedEvaluations:
    """Stands in for an Estimator in the monitors' tests: a learning rate to lower, nothing else."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    def set_learning_rate(self, value):
        self.learning_rate = value


def losses_to_monitor(monitor, losses, learning_rate=0.1):
    watched = ScriptedEvaluations(learning_rate)
    results = [(monitor.after_evaluation(watched, {"loss": loss, "global_step": step}), watched.learning_rate)
               for step, loss in enumerate(losses, 1)]
    return results


def test_plateau_divides_the_rate_after_patience_evaluations_without_improvement():
    results = losses_to_monitor(estimator.ReduceLearningRateOnPlateau(patience=2), [1.0, 0.9, 0.95, 0.92, 0.8, 0.85])
    assert [rate for _, rate in results] == pytest.approx([0.1, 0.1, 0.1, 0.01, 0.01, 0.01])
    assert not any(stop for stop, _ in results)


def test_early_stopping_stops_after_patience_evaluations_without_improvement():
    results = losses_to_monitor(estimator.EarlyStopping(patience=2), [1.0, 0.9, 0.95, 0.91, 0.5])
    assert [stop for stop, _ in results] == [False, False, False, True, False]


def test_accuracy_is_watched_upwards():
    monitor = estimator.EarlyStopping(patience=1, metric="accuracy")
    watched = ScriptedEvaluations(0.1)
    assert not monitor.after_evaluation(watched, {"accuracy": 0.8, "global_step": 1})
    assert not monitor.after_evaluation(watched, {"accuracy": 0.9, "global_step": 2})
    assert monitor.after_evaluation(watched, {"accuracy": 0.85, "global_step": 3})


def test_train_and_evaluate_stops_when_a_monitor_says_so(tmp_path):
    runner = make_estimator(tmp_path)
    # min_delta above any possible improvement: every evaluation after the first counts as a plateau.
    _, evaluations = estimator.train_and_evaluate(
        runner, estimator.TrainSpec(TRAIN_INPUT_FN, max_steps=40),
        estimator.EvalSpec(EVAL_INPUT_FN, every_n_steps=4),
        monitors=[estimator.EarlyStopping(patience=2, min_delta=100.0)])
    assert [metrics["global_step"] for metrics in evaluations] == [4, 8, 12]


def test_lowered_learning_rate_is_checkpointed(tmp_path):
    runner = make_estimator(tmp_path)
    runner.train(TRAIN_INPUT_FN, steps=4)
    runner.set_learning_rate(0.001)
    runner.train(TRAIN_INPUT_FN, steps=4)
    assert make_estimator(tmp_path).learning_rate == pytest.approx(0.001)


def test_a_schedule_cannot_be_set(tmp_path):
    def scheduled_model_fn(params):
        schedule = keras.optimizers.schedules.CosineDecay(0.01, decay_steps=100)
        return make_model_fn("convnet", "adam", schedule)(params)

    runner = make_estimator(tmp_path, model_fn=scheduled_model_fn)
    with pytest.raises(TypeError, match="schedule"):
        runner.set_learning_rate(0.1)


def test_flip_averages_the_probabilities_of_the_image_and_its_mirror():
    model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(2, kernel_initializer=keras.initializers.Constant(
                                  [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0]]), use_bias=False)])
    image = tf.constant([[[[2.0], [0.0]], [[0.0], [0.0]]]])  # logits [2, 0]; mirrored [0, 2]
    probabilities = tf.nn.softmax(estimator.loops.evaluation_logits(model, image, flip=True))
    np.testing.assert_allclose(probabilities, [[0.5, 0.5]], rtol=1e-6)


def test_flip_evaluation_of_a_mirror_symmetric_model_changes_nothing(tmp_path):
    runner = make_estimator(tmp_path)
    runner.train(TRAIN_INPUT_FN, steps=8)
    # Row bands are the labels: mirroring left-right keeps them, so a trained model agrees with itself.
    symmetric_images = np.concatenate([EVAL_IMAGES_HALF, EVAL_IMAGES_HALF[:, :, ::-1]], axis=2)
    input_fn = make_input_fn(symmetric_images, EVAL_LABELS_, batch_size=16)
    plain, flipped = runner.evaluate(input_fn), runner.evaluate(input_fn, flip=True)
    assert flipped["accuracy"] == plain["accuracy"]
    assert flipped["loss"] == pytest.approx(plain["loss"], rel=1e-4)


EVAL_IMAGES_, EVAL_LABELS_ = make_examples(40, seed=3)
EVAL_IMAGES_HALF = EVAL_IMAGES_[:, :, :14]


@pytest.mark.parametrize("dtype, compute_dtype", [("bfloat16", "bfloat16"), ("float16", "float16")])
def test_mixed_precision_computes_in_low_precision_keeps_float32_weights_and_learns(tmp_path, dtype,
                                                                                    compute_dtype):
    runner = make_estimator(tmp_path, model_fn=make_model_fn("small_cnn", "adam", 0.003, seed=0, dtype=dtype))
    before = runner.evaluate(EVAL_INPUT_FN)
    runner.train(TRAIN_INPUT_FN, steps=24)
    after = runner.evaluate(EVAL_INPUT_FN)
    assert runner.model.get_layer(index=-1).compute_dtype == compute_dtype
    assert {variable.dtype for variable in runner.model.trainable_variables} == {"float32"}
    assert after["loss"] < before["loss"]
    assert keras.config.dtype_policy().name == "float32"  # the global policy is left as it was


def test_xla_compiled_steps_train_like_the_plain_loop(tmp_path):
    losses = {}
    for jit_compile in (False, True):
        runner = make_estimator(tmp_path / str(jit_compile), jit_compile=jit_compile)
        runner.train(TRAIN_INPUT_FN, steps=8)
        losses[jit_compile] = runner.evaluate(EVAL_INPUT_FN)["loss"]
    assert losses[True] == pytest.approx(losses[False], rel=1e-3)
