"""Augmentation: Keras core layers on uint8 batches, eagerly and inside ``Dataset.map``, seeded."""

import numpy as np
import pytest
import tensorflow as tf

from fmnist_tf.augment import AugmentOptions, make_batch_augmenter
from idx_files import tiny_examples

IMAGES, LABELS = tiny_examples(16, seed=3)
IMAGES = IMAGES[..., np.newaxis]


def run_eagerly(options, seed=1):
    images, labels = make_batch_augmenter(options, num_classes=10, seed=seed)(IMAGES, LABELS)
    return np.asarray(images), np.asarray(labels)


def run_in_dataset_map(options, seed=1):
    augment = make_batch_augmenter(options, num_classes=10, seed=seed)
    dataset = tf.data.Dataset.from_tensor_slices((IMAGES, LABELS)).batch(len(LABELS)).map(augment)
    images, labels = next(iter(dataset))
    return np.asarray(images), np.asarray(labels)


BOTH_WAYS = pytest.mark.parametrize("run", [run_eagerly, run_in_dataset_map], ids=["eager", "dataset_map"])


def test_default_options_are_off():
    assert not AugmentOptions().enabled
    assert AugmentOptions(horizontal_flip=True).enabled


@BOTH_WAYS
def test_horizontal_flip_leaves_each_image_as_it_was_or_mirrored(run):
    images, labels = run(AugmentOptions(horizontal_flip=True))
    assert images.dtype == np.uint8 and images.shape == IMAGES.shape
    np.testing.assert_array_equal(labels, LABELS)
    mirrored = [np.array_equal(out, image[:, ::-1]) for out, image in zip(images, IMAGES)]
    unchanged = [np.array_equal(out, image) for out, image in zip(images, IMAGES)]
    assert all(m or u for m, u in zip(mirrored, unchanged))
    assert any(mirrored) and any(unchanged)


@BOTH_WAYS
def test_padded_crop_shifts_images_without_changing_their_size(run):
    images, _ = run(AugmentOptions(crop_padding=3))
    assert images.shape == IMAGES.shape and images.dtype == np.uint8
    assert not np.array_equal(images, IMAGES)
    # A shift by at most 3 pixels keeps each image's bright band: a row of it survives in place.
    assert all(out.max() >= 200 for out in images)


@BOTH_WAYS
@pytest.mark.parametrize("options", [
    AugmentOptions(translation=0.1), AugmentOptions(rotation=0.05), AugmentOptions(rand_augment=True),
    AugmentOptions(random_erasing=1.0),
], ids=["translation", "rotation", "rand_augment", "random_erasing"])
def test_each_image_augmentation_runs_on_grayscale_uint8_batches(run, options):
    images, labels = run(options)
    assert images.shape == IMAGES.shape and images.dtype == np.uint8
    assert not np.array_equal(images, IMAGES)
    np.testing.assert_array_equal(labels, LABELS)


@BOTH_WAYS
@pytest.mark.parametrize("options", [AugmentOptions(mixup=0.4), AugmentOptions(cutmix=1.0)],
                         ids=["mixup", "cutmix"])
def test_mixing_turns_labels_into_rows_that_sum_to_one(run, options):
    images, labels = run(options)
    assert images.dtype == np.uint8
    assert labels.shape == (len(LABELS), 10)
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, rtol=1e-5)
    assert (labels.max(axis=1) < 1.0).any()  # some rows really are mixtures


def test_the_same_seed_gives_the_same_batch_and_another_seed_another():
    options = AugmentOptions(crop_padding=2, horizontal_flip=True, rotation=0.05)
    first, second = run_eagerly(options, seed=5)[0], run_eagerly(options, seed=5)[0]
    other = run_eagerly(options, seed=6)[0]
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_input_fns_augment_the_training_batches_only(tiny_idx_dir):
    from fmnist_tf.data import make_input_fns

    augment = make_batch_augmenter(AugmentOptions(mixup=0.4), num_classes=10, seed=1)
    input_fns = make_input_fns(str(tiny_idx_dir), batch_size=10, validation_size=10, seed=1, augment=augment)
    train_images, train_labels = next(iter(input_fns["train"]()))
    assert train_images.dtype == tf.uint8 and tuple(train_labels.shape) == (10, 10)
    for split in ("validation", "test"):
        _, labels = next(iter(input_fns[split]()))
        assert labels.dtype == tf.int32 and labels.shape.rank == 1


def test_a_batch_index_fixes_the_draws_whatever_ran_before_eagerly_and_in_dataset_map():
    options = AugmentOptions(crop_padding=2, horizontal_flip=True, random_erasing=0.5, mixup=0.4)
    augment = make_batch_augmenter(options, num_classes=10, seed=1)
    at_five = [np.asarray(part) for part in augment(IMAGES, LABELS, batch_index=5)]
    augment(IMAGES, LABELS)  # draws on from the generators' state; batch 5 must not notice
    again = [np.asarray(part) for part in augment(IMAGES, LABELS, batch_index=5)]
    in_map = tf.data.Dataset.from_tensors((IMAGES, LABELS)).map(
        lambda images, labels: augment(images, labels, batch_index=tf.constant(5, tf.int64)))
    mapped = [np.asarray(part) for part in next(iter(in_map))]
    at_six = np.asarray(augment(IMAGES, LABELS, batch_index=6)[0])
    for expected, got, got_in_map in zip(at_five, again, mapped):
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(got_in_map, expected)
    assert not np.array_equal(at_six, at_five[0])
