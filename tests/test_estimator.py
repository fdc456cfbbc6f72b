"""The Estimator loop: checkpoints, resuming, exact evaluation, summaries, predict, export, replicas.

Tiny linear models on generated 28x28x1 uint8 images whose brightest band of rows is the label.
Run as a script, this file is the worker of the two-replica test (it needs its own TF runtime).
"""

import glob
import json
import logging
import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from fmnist_tf import estimator


def make_examples(num_examples, seed=0, labels=None):
    """Images whose rows 2k and 2k+1 are bright for label k, over seeded noise."""
    rng = np.random.default_rng(seed)
    if labels is None:
        labels = rng.integers(0, 10, num_examples)
    labels = np.asarray(labels, np.int32)
    images = rng.integers(0, 50, (num_examples, 28, 28, 1), dtype=np.uint8)
    for image, label in zip(images, labels):
        image[2 * label:2 * label + 2] += 200
    return images, labels


def make_input_fn(images, labels=None, batch_size=16, repeat=False):
    def input_fn():
        dataset = tf.data.Dataset.from_tensor_slices(images if labels is None else (images, labels))
        return (dataset.repeat() if repeat else dataset).batch(batch_size)
    return input_fn


def linear_model(kernel_initializer="glorot_uniform", bias_initializer="zeros"):
    pixels = keras.Input((28, 28, 1), dtype="uint8", name="pixels")
    x = keras.layers.Rescaling(1.0 / 255)(pixels)
    x = keras.layers.Flatten()(x)
    logits = keras.layers.Dense(10, kernel_initializer=kernel_initializer,
                                bias_initializer=bias_initializer, name="logits")(x)
    return keras.Model(pixels, logits)


def linear_model_fn(params):
    keras.utils.set_random_seed(0)
    return estimator.EstimatorSpec(linear_model(), keras.optimizers.Adam((params or {}).get("lr", 0.01)))


def make_estimator(model_dir, model_fn=linear_model_fn, **config):
    config.setdefault("steps_per_loop", 4)
    return estimator.Estimator(model_fn, config=estimator.RunConfig(model_dir=str(model_dir), **config))


TRAIN_IMAGES, TRAIN_LABELS = make_examples(128, seed=1)
TRAIN_INPUT_FN = make_input_fn(TRAIN_IMAGES, TRAIN_LABELS, batch_size=16, repeat=True)
EVAL_IMAGES, EVAL_LABELS = make_examples(50, seed=2)
EVAL_INPUT_FN = make_input_fn(EVAL_IMAGES, EVAL_LABELS, batch_size=16)


def checkpoint_steps(model_dir):
    return sorted(int(path[:-len(".index")].rsplit("-", 1)[1])
                  for path in glob.glob(os.path.join(model_dir, "model.ckpt-*.index")))


def weights(model):
    return [variable.numpy() for variable in model.weights]


def read_scalars(directory):
    """``{tag: {step: value}}`` from every event file in ``directory``."""
    scalars = {}
    for path in glob.glob(os.path.join(directory, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                scalars.setdefault(value.tag, {})[event.step] = float(tf.make_ndarray(value.tensor))
    return scalars


def test_train_writes_checkpoint_named_model_ckpt_step(tmp_path):
    runner = make_estimator(tmp_path).train(TRAIN_INPUT_FN, steps=5)
    assert runner.global_step == 5
    assert runner.latest_checkpoint() == os.path.join(str(tmp_path), "model.ckpt-5")


def test_second_train_call_resumes_and_adds_steps(tmp_path):
    make_estimator(tmp_path).train(TRAIN_INPUT_FN, steps=3)
    resumed = make_estimator(tmp_path)
    assert resumed.global_step == 3
    resumed.train(TRAIN_INPUT_FN, steps=4)
    assert resumed.global_step == 7
    assert checkpoint_steps(tmp_path) == [3, 7]


def test_repeated_train_calls_trace_the_loop_once(tmp_path):
    runner = make_estimator(tmp_path, steps_per_loop=3)
    for _ in range(3):
        runner.train(TRAIN_INPUT_FN, steps=5)  # calls of 3 then 2 steps: same trace
    assert runner.global_step == 15
    assert runner._train_loop.experimental_get_tracing_count() == 1


def test_max_steps_already_reached_runs_nothing(tmp_path):
    runner = make_estimator(tmp_path).train(TRAIN_INPUT_FN, max_steps=4)
    before = weights(runner.model)
    input_fn_calls = []
    runner.train(lambda: input_fn_calls.append(1) or TRAIN_INPUT_FN(), max_steps=4)
    assert runner.global_step == 4 and input_fn_calls == []
    for old, new in zip(before, weights(runner.model)):
        np.testing.assert_array_equal(old, new)


def test_restored_estimator_evaluates_identically(tmp_path):
    specs = []

    def recording_model_fn(params):
        specs.append(linear_model_fn(params))
        return specs[-1]

    trained = make_estimator(tmp_path, recording_model_fn).train(TRAIN_INPUT_FN, steps=6)
    restored = make_estimator(tmp_path, recording_model_fn)
    assert restored.global_step == 6
    assert restored.evaluate(EVAL_INPUT_FN) == trained.evaluate(EVAL_INPUT_FN)
    trained_slots, restored_slots = (spec.optimizer.variables for spec in specs)
    assert len(restored_slots) == 2 + 2 * 2  # iterations, learning rate; m and v of kernel and bias
    for trained_slot, restored_slot in zip(trained_slots, restored_slots):
        np.testing.assert_array_equal(trained_slot.numpy(), restored_slot.numpy())
    # Adam's next step depends on its slots: the same step from both gives the same weights.
    for runner in (trained, restored):
        runner.train(make_input_fn(TRAIN_IMAGES, TRAIN_LABELS), steps=1)
    for trained_weight, restored_weight in zip(weights(trained.model), weights(restored.model)):
        np.testing.assert_array_equal(trained_weight, restored_weight)


def test_keep_checkpoint_max_prunes_old_checkpoints(tmp_path):
    make_estimator(tmp_path, save_checkpoints_steps=2, keep_checkpoint_max=2).train(
        TRAIN_INPUT_FN, steps=8)
    assert checkpoint_steps(tmp_path) == [6, 8]


def test_evaluate_counts_partial_last_batch_exactly(tmp_path):
    # A model that always predicts class 0 with logit 1 (others 0), on labels 0..9 repeated:
    # 50 examples in batches of 16, 16, 16, 2 hold 2, 2, 1, 0 zeros. Exact accuracy is 5/50;
    # averaging the four batch accuracies would give 0.078.
    def always_class_zero(params):
        model = linear_model("zeros", keras.initializers.Constant([1.0] + [0.0] * 9))
        return estimator.EstimatorSpec(model, keras.optimizers.SGD(0.1))

    images, labels = make_examples(50, labels=np.arange(50) % 10)
    metrics = make_estimator(tmp_path, always_class_zero).evaluate(
        make_input_fn(images, labels, batch_size=16))
    assert metrics["accuracy"] == pytest.approx(0.1)
    assert metrics["loss"] == pytest.approx(math.log(math.e + 9) - 0.1, rel=1e-6)
    assert metrics["global_step"] == 0


def test_evaluate_steps_limits_the_batches(tmp_path):
    metrics = make_estimator(tmp_path).evaluate(make_input_fn(EVAL_IMAGES, EVAL_LABELS, batch_size=10),
                                                steps=2)
    full = make_estimator(tmp_path).evaluate(make_input_fn(EVAL_IMAGES[:20], EVAL_LABELS[:20]))
    assert metrics == full


def test_train_reduces_loss(tmp_path):
    runner = make_estimator(tmp_path)
    before = runner.evaluate(EVAL_INPUT_FN)
    after = runner.train(TRAIN_INPUT_FN, steps=40).evaluate(EVAL_INPUT_FN)
    assert after["loss"] < before["loss"] / 4
    assert after["accuracy"] >= 0.9
    assert after["global_step"] == 40


def test_input_ending_stops_training_and_checkpoints(tmp_path):
    forty_examples = make_input_fn(TRAIN_IMAGES[:40], TRAIN_LABELS[:40], batch_size=8)
    runner = make_estimator(tmp_path).train(forty_examples, steps=100)
    assert runner.global_step == 5 and checkpoint_steps(tmp_path) == [5]
    runner.train(forty_examples)  # neither steps nor max_steps: to the end of the input
    assert runner.global_step == 10 and checkpoint_steps(tmp_path) == [5, 10]


def test_summaries_written_for_train_and_eval(tmp_path):
    def decaying_model_fn(params):
        keras.utils.set_random_seed(0)
        schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
        return estimator.EstimatorSpec(linear_model(), keras.optimizers.SGD(schedule))

    runner = make_estimator(tmp_path, decaying_model_fn, save_summary_steps=2, steps_per_loop=2)
    runner.train(TRAIN_INPUT_FN, steps=4)
    runner.evaluate(EVAL_INPUT_FN)
    runner.evaluate(EVAL_INPUT_FN, name="test")

    train = read_scalars(tmp_path)
    assert set(train) == {"loss", "accuracy", "learning_rate", "global_step/sec", "examples/sec"}
    assert sorted(train["loss"]) == [2, 4]
    assert train["learning_rate"] == pytest.approx({2: 0.1 * 0.5 ** 2, 4: 0.1 * 0.5 ** 4})
    assert all(value > 0 for value in train["examples/sec"].values())
    for eval_dir in ("eval", "eval_test"):
        scalars = read_scalars(tmp_path / eval_dir)
        assert set(scalars) == {"loss", "accuracy", "top_5_accuracy"} and list(scalars["accuracy"]) == [4]


def test_train_and_evaluate_log_like_tf1(tmp_path, caplog):
    # On the absl logger itself: parsing absl flags elsewhere in the session sets its level from --verbosity.
    caplog.set_level(logging.INFO, logger="absl")
    runner = make_estimator(tmp_path, log_step_count_steps=4, steps_per_loop=2)
    runner.train(TRAIN_INPUT_FN, steps=4).evaluate(EVAL_INPUT_FN)
    messages = [record.getMessage() for record in caplog.records]
    assert any(message.startswith("loss = ") and message.endswith(", step = 4") for message in messages)
    assert any(message.startswith("global_step/sec: ") for message in messages)
    assert any(message.startswith("Saving dict for global step 4: accuracy = ") for message in messages)


def test_predict_yields_one_dict_per_example(tmp_path):
    runner = make_estimator(tmp_path).train(TRAIN_INPUT_FN, steps=20)
    predictions = list(runner.predict(make_input_fn(EVAL_IMAGES, batch_size=16)))
    assert len(predictions) == 50
    assert set(predictions[0]) == {"classes", "probabilities", "logits"}
    assert all(isinstance(prediction["classes"], int) for prediction in predictions)
    probabilities = np.stack([prediction["probabilities"] for prediction in predictions])
    assert probabilities.shape == (50, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    classes = np.array([prediction["classes"] for prediction in predictions])
    np.testing.assert_array_equal(classes, probabilities.argmax(axis=1))
    accuracy = runner.evaluate(EVAL_INPUT_FN)["accuracy"]
    assert np.mean(classes == EVAL_LABELS) == pytest.approx(accuracy)
    # (features, labels) elements give the same predictions as features alone.
    with_labels = [prediction["classes"] for prediction in runner.predict(EVAL_INPUT_FN)]
    assert with_labels == classes.tolist()


def test_export_saved_model_serves_same_classes(tmp_path):
    runner = make_estimator(tmp_path / "model").train(TRAIN_INPUT_FN, steps=20)
    export_dir = runner.export_saved_model(str(tmp_path / "export"))
    assert os.path.dirname(export_dir) == str(tmp_path / "export")
    assert os.path.basename(export_dir).isdigit()
    assert os.listdir(tmp_path / "export") == [os.path.basename(export_dir)]  # no temporary left

    serve = tf.saved_model.load(export_dir).signatures["serving_default"]
    input_spec = serve.structured_input_signature[1]["pixels"]
    assert input_spec.dtype == tf.uint8 and input_spec.shape.as_list() == [None, 28, 28, 1]
    served = serve(pixels=tf.constant(EVAL_IMAGES))
    assert set(served) == {"classes", "probabilities", "logits"}
    predicted = [prediction["classes"] for prediction in runner.predict(EVAL_INPUT_FN)]
    assert served["classes"].numpy().tolist() == predicted


def test_train_and_evaluate_evaluates_every_n_steps(tmp_path):
    runner = make_estimator(tmp_path)
    final, evaluations = estimator.train_and_evaluate(
        runner, estimator.TrainSpec(TRAIN_INPUT_FN, max_steps=10),
        estimator.EvalSpec(EVAL_INPUT_FN, every_n_steps=4))
    assert [metrics["global_step"] for metrics in evaluations] == [4, 8, 10]
    assert final == evaluations[-1]
    assert sorted(read_scalars(tmp_path / "eval")["accuracy"]) == [4, 8, 10]
    again_final, again = estimator.train_and_evaluate(
        runner, estimator.TrainSpec(TRAIN_INPUT_FN, max_steps=10),
        estimator.EvalSpec(EVAL_INPUT_FN, every_n_steps=4))
    assert again == [final] and again_final == final  # already done: evaluated once, not trained


def test_steps_and_max_steps_together_is_an_error(tmp_path):
    runner = make_estimator(tmp_path)
    with pytest.raises(ValueError, match="both steps and max_steps"):
        runner.train(TRAIN_INPUT_FN, steps=1, max_steps=1)
    with pytest.raises(ValueError, match="steps > 0, given: 0"):
        runner.train(TRAIN_INPUT_FN, steps=0)
    with pytest.raises(ValueError, match="max_steps > 0, given: -1"):
        runner.train(TRAIN_INPUT_FN, max_steps=-1)
    assert runner.global_step == 0 and runner.latest_checkpoint() is None
    with pytest.raises(ValueError, match="steps_per_loop must be > 0, given: 0"):
        estimator.RunConfig(steps_per_loop=0)


def test_model_without_declared_input_is_built_from_the_data_and_restored(tmp_path):
    def sequential_model_fn(params):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.layers.Rescaling(1.0 / 255), keras.layers.Flatten(),
                                  keras.layers.Dense(10)])
        return estimator.EstimatorSpec(model, keras.optimizers.Adam(0.01))

    trained = make_estimator(tmp_path, sequential_model_fn).train(TRAIN_INPUT_FN, steps=3)
    restored = make_estimator(tmp_path, sequential_model_fn)
    assert restored.global_step == 3
    assert restored.evaluate(EVAL_INPUT_FN) == trained.evaluate(EVAL_INPUT_FN)


def test_top_5_accuracy_counts_labels_among_the_five_largest_logits(tmp_path):
    # Fixed logits rank the classes 0, 1, ..., 9: labels 0..9 repeated are top-1 a tenth, top-5 half the time.
    def ranked_classes(params):
        model = linear_model("zeros", keras.initializers.Constant([9.0 - label for label in range(10)]))
        return estimator.EstimatorSpec(model, keras.optimizers.SGD(0.1))

    images, labels = make_examples(50, labels=np.arange(50) % 10)
    metrics = make_estimator(tmp_path, ranked_classes).evaluate(make_input_fn(images, labels, batch_size=16))
    assert metrics["accuracy"] == pytest.approx(0.1)
    assert metrics["top_5_accuracy"] == pytest.approx(0.5)


def hidden_layer_model_fn(frozen, optimizer_fn=lambda: keras.optimizers.SGD(0.1)):
    """A hidden layer under the logits, untrainable when ``frozen``: a backbone in miniature."""
    def model_fn(params):
        keras.utils.set_random_seed(0)
        pixels = keras.Input((28, 28, 1), dtype="uint8")
        x = keras.layers.Flatten()(keras.layers.Rescaling(1.0 / 255)(pixels))
        hidden = keras.layers.Dense(8, name="hidden", trainable=not frozen)
        logits = keras.layers.Dense(10, name="logits")(hidden(x))
        return estimator.EstimatorSpec(keras.Model(pixels, logits), optimizer_fn())
    return model_fn


def test_replaced_optimizer_trains_the_unfrozen_layer_and_its_checkpoint_restores(tmp_path):
    runner = make_estimator(tmp_path, hidden_layer_model_fn(frozen=True)).train(TRAIN_INPUT_FN, steps=2)
    hidden = runner.model.get_layer("hidden")
    frozen_kernel = hidden.kernel.numpy()
    hidden.trainable = True
    runner.replace_optimizer(lambda: keras.optimizers.Adam(0.01))
    runner.train(TRAIN_INPUT_FN, steps=2)
    assert not np.allclose(hidden.kernel.numpy(), frozen_kernel)
    assert estimator.latest_global_step(str(tmp_path)) == 4

    # The step-4 checkpoint holds Adam's slots of both layers: a model_fn in that state restores it exactly.
    unfrozen_with_adam = hidden_layer_model_fn(frozen=False, optimizer_fn=lambda: keras.optimizers.Adam(0.01))
    restored = make_estimator(tmp_path, unfrozen_with_adam)
    assert restored.global_step == 4
    assert restored.evaluate(EVAL_INPUT_FN) == runner.evaluate(EVAL_INPUT_FN)


def test_without_model_dir_a_temporary_one_is_used():
    runner = estimator.Estimator(linear_model_fn)
    assert os.path.isdir(runner.model_dir) and runner.config.model_dir == runner.model_dir


# Two replicas against one, in a fresh process whose CPU is split into two logical devices.

MIRRORED_STEPS = 6  # 128 examples in global batches of 24: the sixth is partial
MIRRORED_TOLERANCE = 1e-5  # float32 sums in another order: relative difference per step


def sgd_model_fn(params):
    keras.utils.set_random_seed(0)
    return estimator.EstimatorSpec(linear_model(), keras.optimizers.SGD(0.5))


def loss_trajectory(model_dir, strategy, input_fn):
    """Per-step training losses, from the summaries, then the evaluation loss after the steps."""
    runner = make_estimator(model_dir, sgd_model_fn, train_distribute=strategy, steps_per_loop=1,
                            save_summary_steps=1)
    runner.train(input_fn, steps=MIRRORED_STEPS)
    losses = read_scalars(model_dir)["loss"]
    return [losses[step] for step in sorted(losses)] + [runner.evaluate(EVAL_INPUT_FN)["loss"]]


def mirrored_loss_trajectories(model_root):
    """Trajectories for: 1 replica; 2 replicas fed the global batch; 2 replicas via input_context."""
    global_batch = 24

    def per_replica_input_fn(input_context):
        batch_size = input_context.get_per_replica_batch_size(global_batch)
        dataset = tf.data.Dataset.from_tensor_slices((TRAIN_IMAGES, TRAIN_LABELS))
        return dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id) \
            .batch(batch_size)

    global_input_fn = make_input_fn(TRAIN_IMAGES, TRAIN_LABELS, batch_size=global_batch)
    mirrored = tf.distribute.MirroredStrategy(
        [device.name for device in tf.config.list_logical_devices("CPU")])
    return {
        "one_replica": loss_trajectory(os.path.join(model_root, "one"), None, global_input_fn),
        "two_replicas": loss_trajectory(os.path.join(model_root, "two"), mirrored, global_input_fn),
        "two_replicas_input_context": loss_trajectory(os.path.join(model_root, "context"), mirrored,
                                                      per_replica_input_fn),
        "replicas_in_sync": mirrored.num_replicas_in_sync,
    }


def test_mirrored_two_replicas_match_one_replica(tmp_path):
    completed = subprocess.run([sys.executable, __file__, str(tmp_path)], capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-3000:]
    trajectories = json.loads(completed.stdout.strip().splitlines()[-1])
    assert trajectories["replicas_in_sync"] == 2
    assert len(trajectories["one_replica"]) == MIRRORED_STEPS + 1
    for two_replicas in ("two_replicas", "two_replicas_input_context"):
        np.testing.assert_allclose(trajectories[two_replicas], trajectories["one_replica"],
                                   rtol=MIRRORED_TOLERANCE, err_msg=two_replicas)


if __name__ == "__main__":
    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
    print(json.dumps(mirrored_loss_trajectories(sys.argv[1])))
