"""Exact resume: training stopped and resumed up to three times ends bitwise equal to an uninterrupted run.

In-process, every restart is a new Estimator, model, optimizer, augmenter and input_fn, so what carries over comes
from the checkpoint; op determinism is not switched on there (it is process-wide and for good, and these CPU
kernels are deterministic anyway). The train CLI test runs ``--deterministic`` in subprocesses stopped by SIGTERM
and SIGKILL. Run as a script, this file is that trainer: the train CLI on tiny generated IDX files, whose digests
are not Fashion-MNIST's, so fetching is skipped.
"""

import glob
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from fmnist_tf import estimator
from fmnist_tf.augment import AugmentOptions, make_batch_augmenter
from fmnist_tf.data import make_input_fns
from fmnist_tf.data.pipeline import make_training_dataset

REPO = Path(__file__).resolve().parents[1]
AUGMENT = AugmentOptions(crop_padding=2, horizontal_flip=True, random_erasing=0.5)
BATCH_SIZE = 8  # the 60 tiny training images make 7.5 batches: batches straddle epochs
# What a checkpoint holds besides the training state: how many saves this model_dir has seen.
SAVE_COUNTER = "save_counter/.ATTRIBUTES/VARIABLE_VALUE"


def checkpoint_values(model_dir):
    """``{name: array}`` of every value in the newest checkpoint of ``model_dir`` but its save counter."""
    reader = tf.train.load_checkpoint(str(model_dir))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if name not in ("_CHECKPOINTABLE_OBJECT_GRAPH", SAVE_COUNTER)}


def assert_bitwise_equal(values, expected):
    assert sorted(values) == sorted(expected)
    differing = [name for name in expected if values[name].dtype != expected[name].dtype
                 or values[name].shape != expected[name].shape or values[name].tobytes() != expected[name].tobytes()]
    assert not differing, f"{len(differing)} of {len(expected)} values differ, e.g. {differing[:5]}"


# --- The training stream ------------------------------------------------------------------------------------------


def test_the_stream_started_at_a_step_gives_that_steps_batches_from_memory_or_files(tiny_idx_dir):
    kwargs = dict(batch_size=BATCH_SIZE, seed=3, validation_size=10)
    from_start = list(make_training_dataset(tiny_idx_dir, source="memory", **kwargs).take(20).as_numpy_iterator())
    # 50 examples after the validation split: step 6 straddles epochs 0 and 1, step 13 is inside epoch 2.
    # Prefetching (--prefetch_batches; tf.data's choice above) changes when batches are made, never which.
    for source, step, prefetch_batches in (("memory", 1, 0), ("memory", 13, 1), ("idx", 6, 0)):
        resumed = make_training_dataset(tiny_idx_dir, source=source, start_step=step,
                                        prefetch_batches=prefetch_batches, **kwargs).take(20 - step)
        for offset, (images, labels) in enumerate(resumed.as_numpy_iterator()):
            np.testing.assert_array_equal(images, from_start[step + offset][0])
            np.testing.assert_array_equal(labels, from_start[step + offset][1])
    epoch_labels = np.concatenate([labels for _, labels in from_start])
    # Every epoch is a new order of the same 50 examples.
    assert sorted(epoch_labels[:50]) == sorted(epoch_labels[50:100])
    assert not np.array_equal(epoch_labels[:50], epoch_labels[50:100])


def test_deterministic_needs_a_seed():
    with pytest.raises(ValueError, match="RunConfig.deterministic needs a tf_random_seed"):
        estimator.RunConfig(deterministic=True)


# --- In-process restarts ------------------------------------------------------------------------------------------


def tiny_model_fn(seed):
    """A conv layer, dropout and logits, with Adam: every kind of state a checkpoint must carry or key."""
    def model_fn(params):
        keras.utils.set_random_seed(seed)
        pixels = keras.Input((28, 28, 1), dtype="uint8")
        x = keras.layers.Rescaling(1.0 / 255)(pixels)
        x = keras.layers.Conv2D(4, 3, strides=2, activation="relu")(x)        # [B, 13, 13, 4]
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dropout(0.4)(x)
        logits = keras.layers.Dense(10)(x)
        return estimator.EstimatorSpec(keras.Model(pixels, logits), keras.optimizers.Adam(0.01))
    return model_fn


def train_in_segments(model_dir, data_dir, segments, seed=1):
    """Trains to each ``(max_steps, steps_per_loop, save_checkpoints_steps)`` in turn, each with new objects."""
    for max_steps, steps_per_loop, save_checkpoints_steps in segments:
        config = estimator.RunConfig(model_dir=str(model_dir), steps_per_loop=steps_per_loop,
                                     save_checkpoints_steps=save_checkpoints_steps, tf_random_seed=seed)
        classifier = estimator.Estimator(tiny_model_fn(seed), config=config)
        augment = make_batch_augmenter(AUGMENT, num_classes=10, seed=seed)
        input_fns = make_input_fns(data_dir, BATCH_SIZE, seed=seed, augment=augment)
        classifier.train(input_fns["train"], max_steps=max_steps)
    return checkpoint_values(model_dir)


UNINTERRUPTED = [(30, 4, 5)]


def test_three_restarts_mid_epoch_and_mid_loop_end_bitwise_equal(tmp_path, tiny_idx_dir):
    expected = train_in_segments(tmp_path / "uninterrupted", tiny_idx_dir, UNINTERRUPTED)
    # Stops at steps 7, 13 and 22 (none a multiple of the batches per epoch or of the steps per call), and
    # other steps per call and checkpoint spacings after each restart.
    resumed = train_in_segments(tmp_path / "resumed", tiny_idx_dir, [(7, 3, 5), (13, 5, 4), (22, 1, 6), (30, 4, 5)])
    assert_bitwise_equal(resumed, expected)
    assert int(expected["global_step/.ATTRIBUTES/VARIABLE_VALUE"]) == 30


def test_another_seed_ends_elsewhere(tmp_path, tiny_idx_dir):
    first = train_in_segments(tmp_path / "seed1", tiny_idx_dir, UNINTERRUPTED, seed=1)
    second = train_in_segments(tmp_path / "seed2", tiny_idx_dir, UNINTERRUPTED, seed=2)
    # The model's weights are saved once, under the optimizer that updates them.
    weights = [name for name in first if name.startswith("optimizer/_trainable_variables/")]
    assert len(weights) == 4  # two kernels, two biases
    assert all(not np.array_equal(first[name], second[name]) for name in weights)


# --- The train CLI, stopped by signals ----------------------------------------------------------------------------

TRAIN_STEPS = 36
CLI_FLAGS = ["--model=convnet", "--optimizer=adam", f"--batch_size={BATCH_SIZE}", "--validation_size=0",
             f"--train_steps={TRAIN_STEPS}", f"--steps_per_eval={TRAIN_STEPS}", "--steps_per_loop=3",
             "--save_checkpoints_steps=4", "--keep_checkpoint_max=2", "--projector_examples=0",
             "--crop_padding=2", "--horizontal_flip", "--random_erasing=0.5", "--deterministic", "--seed=7"]
PROCESS_TIMEOUT = 300


def start_trainer(model_dir, data_dir, log_name):
    """This file as the train CLI, logging to files (a full pipe would stall it)."""
    logs = [open(model_dir.parent / f"{log_name}.{stream}", "w") for stream in ("out", "err")]
    process = subprocess.Popen([sys.executable, __file__, f"--model_dir={model_dir}", f"--data_dir={data_dir}",
                                *CLI_FLAGS], cwd=REPO, stdout=logs[0], stderr=logs[1], text=True)
    for log in logs:
        log.close()
    return process


def newest_checkpoint_step(model_dir):
    steps = [int(path[:-len(".index")].rsplit("-", 1)[1])
             for path in glob.glob(os.path.join(model_dir, "model.ckpt-*.index"))]
    return max(steps, default=0)


def interrupt_after_checkpoint(process, model_dir, after_step, signal_number):
    """Sends ``signal_number`` once a checkpoint past ``after_step`` appears; returns the process's exit code."""
    deadline = time.monotonic() + PROCESS_TIMEOUT
    while newest_checkpoint_step(model_dir) <= after_step:
        assert process.poll() is None, f"the trainer ended (exit {process.returncode}) before step {after_step}"
        assert time.monotonic() < deadline, f"no checkpoint past step {after_step} in {PROCESS_TIMEOUT} s"
        time.sleep(0.02)
    process.send_signal(signal_number)
    return process.wait(timeout=PROCESS_TIMEOUT)


def test_train_cli_stopped_by_sigterm_killed_and_stopped_again_ends_bitwise_equal(tmp_path, tiny_idx_dir):
    uninterrupted_dir, resumed_dir = tmp_path / "uninterrupted", tmp_path / "resumed"
    uninterrupted = start_trainer(uninterrupted_dir, tiny_idx_dir, "uninterrupted")

    stops = []
    for attempt, signal_number in enumerate([signal.SIGTERM, signal.SIGKILL, signal.SIGTERM]):
        process = start_trainer(resumed_dir, tiny_idx_dir, f"attempt{attempt}")
        exit_code = interrupt_after_checkpoint(process, resumed_dir, (stops[-1] if stops else 0) + 4,
                                               signal_number)
        log = (tmp_path / f"attempt{attempt}.err").read_text()[-3000:]
        if signal_number == signal.SIGTERM:
            assert exit_code == 0, log
            assert "Stopped by SIGTERM" in (tmp_path / f"attempt{attempt}.out").read_text(), log
        else:
            assert exit_code == -signal.SIGKILL, log
        stops.append(newest_checkpoint_step(resumed_dir))
    assert stops == sorted(stops) and stops[-1] < TRAIN_STEPS, stops

    final = start_trainer(resumed_dir, tiny_idx_dir, "final")
    assert final.wait(timeout=PROCESS_TIMEOUT) == 0, (tmp_path / "final.err").read_text()[-3000:]
    assert uninterrupted.wait(timeout=PROCESS_TIMEOUT) == 0, (tmp_path / "uninterrupted.err").read_text()[-3000:]
    assert f"| global step | {TRAIN_STEPS} |" in (tmp_path / "final.out").read_text()
    assert_bitwise_equal(checkpoint_values(resumed_dir), checkpoint_values(uninterrupted_dir))


if __name__ == "__main__":
    from fmnist_tf import command_line, data, train

    data.fetch = lambda dataset, data_dir: None
    command_line.run(train.main)
