"""Damaged checkpoints, a lost state file and another architecture's model_dir, met by a fresh Estimator.

A linear model trained once to step 8 (checkpoints at 4 and 8) on generated images; each test damages a copy.
"""

import os
import random
import shutil

import keras
import numpy as np
import pytest

from fmnist_tf import estimator
from fmnist_tf.estimator import checkpoints
from test_estimator import TRAIN_INPUT_FN, checkpoint_steps, linear_model_fn, make_estimator, weights

DATA_FILE = "model.ckpt-8.data-00000-of-00001"
INDEX_FILE = "model.ckpt-8.index"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``(model_dir, weights at step 4, weights at step 8)`` of a run saving every 4 steps."""
    model_dir = tmp_path_factory.mktemp("trained")
    runner = make_estimator(model_dir, save_checkpoints_steps=4)
    runner.train(TRAIN_INPUT_FN, max_steps=4)
    at_4 = weights(runner.model)
    runner.train(TRAIN_INPUT_FN, max_steps=8)
    assert checkpoint_steps(str(model_dir)) == [4, 8]
    return model_dir, at_4, weights(runner.model)


@pytest.fixture
def model_dir(trained, tmp_path):
    copy = tmp_path / "model_dir"
    shutil.copytree(trained[0], copy)
    return copy


def truncate(path):
    with open(path, "r+b") as stream:
        stream.truncate(os.path.getsize(path) // 2)


def flip_bits(path, seed, first_fraction=1.0):
    """Flips one bit in each of 3 seeded bytes of ``path``'s first ``first_fraction`` (its end may be padding)."""
    rng = random.Random(seed)
    content = bytearray(open(path, "rb").read())
    for position in rng.sample(range(int(len(content) * first_fraction)), 3):
        content[position] ^= 1 << rng.randrange(8)
    open(path, "wb").write(bytes(content))


DAMAGES = {  # name: (how, the file the warning names)
    "truncated index": (lambda model_dir: truncate(model_dir / INDEX_FILE), INDEX_FILE),
    "truncated data": (lambda model_dir: truncate(model_dir / DATA_FILE), DATA_FILE),
    "bit-flipped index": (lambda model_dir: flip_bits(model_dir / INDEX_FILE, seed=1, first_fraction=0.5), INDEX_FILE),
    "bit-flipped data": (lambda model_dir: flip_bits(model_dir / DATA_FILE, seed=2), DATA_FILE),
    "empty index": (lambda model_dir: open(model_dir / INDEX_FILE, "wb").close(), INDEX_FILE),
    "missing data": (lambda model_dir: os.unlink(model_dir / DATA_FILE), "model.ckpt-8.data-* (none)"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_latest_checkpoint_is_named_and_the_previous_one_restored(trained, model_dir, absl_warnings,
                                                                             damage):
    how, damaged_file = DAMAGES[damage]
    how(model_dir)
    assert estimator.latest_global_step(str(model_dir)) == 4
    runner = make_estimator(model_dir)
    assert runner.global_step == 4
    assert all(np.array_equal(restored, saved) for restored, saved in zip(weights(runner.model), trained[1]))
    warnings = "\n".join(absl_warnings())
    assert f"Checkpoint {model_dir}/model.ckpt-8 is damaged and is skipped: {model_dir}/{damaged_file}" in warnings
    assert f"Restoring the previous checkpoint, {model_dir}/model.ckpt-4, instead." in warnings


def test_seeded_bit_flips_anywhere_in_the_data_file_are_all_caught(model_dir):
    pristine = (model_dir / DATA_FILE).read_bytes()
    for seed in range(10):
        flip_bits(model_dir / DATA_FILE, seed)
        assert checkpoints.latest_intact_checkpoint(str(model_dir))[0] == f"{model_dir}/model.ckpt-4"
        (model_dir / DATA_FILE).write_bytes(pristine)
    assert checkpoints.latest_intact_checkpoint(str(model_dir))[0] == f"{model_dir}/model.ckpt-8"


def test_when_no_checkpoint_is_restorable_the_run_fails_listing_what_was_tried(model_dir):
    truncate(model_dir / INDEX_FILE)
    flip_bits(model_dir / "model.ckpt-4.data-00000-of-00001", seed=3)
    with pytest.raises(estimator.CheckpointDamagedError) as raised:
        make_estimator(model_dir)
    message = str(raised.value)
    assert f"{model_dir} holds 2 checkpoint(s) and none is restorable" in message
    assert message.index(f"{model_dir}/model.ckpt-8: {model_dir}/{INDEX_FILE}") < message.index(
        f"{model_dir}/model.ckpt-4: {model_dir}/model.ckpt-4.data-00000-of-00001")
    assert "Checksum does not match" in message
    assert [prefix for prefix, _ in raised.value.failures] == [f"{model_dir}/model.ckpt-8",
                                                              f"{model_dir}/model.ckpt-4"]
    with pytest.raises(estimator.CheckpointDamagedError):
        estimator.latest_global_step(str(model_dir))


@pytest.mark.parametrize("state", [None, b"\xff\xfe\x00 not text", b'model_checkpoint_path: "model.ckpt-8"\nall_mod'])
def test_a_lost_or_damaged_state_file_is_rebuilt_from_the_checkpoint_files(trained, model_dir, absl_warnings, state):
    state_file = model_dir / "checkpoint"
    if state is None:
        state_file.unlink()
    else:
        state_file.write_bytes(state)
    runner = make_estimator(model_dir, save_checkpoints_steps=4, keep_checkpoint_max=2)
    assert runner.global_step == 8
    assert all(np.array_equal(restored, saved) for restored, saved in zip(weights(runner.model), trained[2]))
    assert runner.latest_checkpoint() == f"{model_dir}/model.ckpt-8"
    assert f"Rewrote the checkpoint state file of {model_dir} from its files: model.ckpt-4, model.ckpt-8" in (
        absl_warnings())
    # The rebuilt state lets the manager go on deleting the oldest checkpoints.
    runner.train(TRAIN_INPUT_FN, max_steps=16)
    assert checkpoint_steps(str(model_dir)) == [12, 16]


def test_a_checkpoint_the_state_file_does_not_name_is_tried_after_those_it_names(model_dir, absl_warnings):
    # A save cut short by a kill: files of step 12, never named by the state file, the index half written.
    for name in (INDEX_FILE, DATA_FILE):
        shutil.copy(model_dir / name, model_dir / name.replace("-8.", "-12."))
    truncate(model_dir / "model.ckpt-12.index")
    assert checkpoints.candidate_checkpoints(str(model_dir)) == [
        f"{model_dir}/model.ckpt-{step}" for step in (8, 4, 12)]
    assert make_estimator(model_dir).global_step == 8
    assert absl_warnings() == []


def test_a_save_cut_short_with_nothing_before_it_starts_over_with_a_warning(model_dir, absl_warnings):
    # Killed while merging its first save: the index half written, TensorFlow's _temp folder still there.
    for name in ("checkpoint", "model.ckpt-4.index", "model.ckpt-4.data-00000-of-00001"):
        (model_dir / name).unlink()
    truncate(model_dir / INDEX_FILE)
    (model_dir / "model.ckpt-8_temp").mkdir()
    assert make_estimator(model_dir).global_step == 0
    assert absl_warnings()[0].startswith(f"Checkpoint {model_dir}/model.ckpt-8 was cut short while being written")


def test_a_damaged_checkpoint_the_state_file_names_is_never_taken_for_a_save_cut_short(model_dir):
    (model_dir / "model.ckpt-4.index").unlink()
    truncate(model_dir / INDEX_FILE)
    (model_dir / "model.ckpt-8_temp").mkdir()  # left by an earlier kill, as the save of step 8 was redone
    with pytest.raises(estimator.CheckpointDamagedError, match="holds 1 checkpoint"):
        estimator.latest_global_step(str(model_dir))


def test_the_trainer_deletes_what_killed_saves_left_below_its_newest_checkpoint(model_dir):
    leftovers = ["model.ckpt-6_temp", "model.ckpt-8_temp", "model.ckpt-2.data-00000-of-00001"]
    kept = ["model.ckpt-10_temp", "model.ckpt-12.data-00000-of-00001"]  # above step 8: maybe a save in progress
    for name in leftovers + kept:
        if name.endswith("_temp"):
            (model_dir / name).mkdir()
            (model_dir / name / "part-00000-of-00001.data-00000-of-00001.tempstate123").write_bytes(b"partial")
        else:
            (model_dir / name).write_bytes(b"orphan")
    make_estimator(model_dir)
    assert sorted(set(os.listdir(model_dir)) & set(leftovers + kept)) == sorted(kept)
    assert checkpoint_steps(str(model_dir)) == [4, 8]


def conv_model_fn(kernel_size, extra_dense=False):
    """A small convnet whose conv1 kernel is ``kernel_size`` square, with a hidden dense layer if asked."""
    def model_fn(params):
        keras.utils.set_random_seed(0)
        pixels = keras.Input((28, 28, 1), dtype="uint8", name="pixels")
        x = keras.layers.Rescaling(1.0 / 255)(pixels)
        x = keras.layers.Conv2D(4, kernel_size, strides=4, name="conv1")(x)
        x = keras.layers.GlobalAveragePooling2D()(x)
        if extra_dense:
            x = keras.layers.Dense(8, name="dense")(x)
        model = keras.Model(pixels, keras.layers.Dense(10, name="logits")(x))
        return estimator.EstimatorSpec(model, keras.optimizers.Adam(0.01))
    return model_fn


@pytest.fixture(scope="module")
def conv_model_dir(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("conv5x5")
    make_estimator(model_dir, conv_model_fn(5)).train(TRAIN_INPUT_FN, max_steps=2)
    return model_dir


def test_a_model_dir_of_another_kernel_size_is_refused_naming_the_variable(conv_model_dir):
    with pytest.raises(estimator.CheckpointMismatchError) as raised:
        make_estimator(conv_model_dir, conv_model_fn(3))
    message = str(raised.value)
    assert message.startswith(f"{conv_model_dir}/model.ckpt-2 was saved from another model: conv1/kernel: "
                              "checkpoint has shape [5, 5, 1, 4], model has [3, 3, 1, 4];")
    assert "Use another model_dir for this model" in message


def test_a_model_dir_of_a_model_with_another_layer_is_refused_naming_the_variables(conv_model_dir):
    with pytest.raises(estimator.CheckpointMismatchError) as raised:
        make_estimator(conv_model_dir, conv_model_fn(5, extra_dense=True))
    mismatches = raised.value.mismatches
    assert "dense/kernel: checkpoint has shape [4, 10], model has [4, 8]" in mismatches
    assert "logits/kernel: model has shape [8, 10], the checkpoint has no such variable" in mismatches


def test_the_linear_model_is_refused_by_the_convnet_model_dir(conv_model_dir):
    with pytest.raises(estimator.CheckpointMismatchError, match=r"conv1/kernel|logits/kernel"):
        make_estimator(conv_model_dir, linear_model_fn)


def test_an_empty_model_dir_starts_from_step_zero_without_warnings(tmp_path, absl_warnings):
    assert estimator.latest_global_step(str(tmp_path)) == 0
    assert make_estimator(tmp_path).global_step == 0
    assert absl_warnings() == []
