"""keras.applications backbones: shapes at 32x32x3 and 28x28x1, local weights files, freezing, a few training steps."""

import keras
import numpy as np
import pytest

from fmnist_tf import models
from fmnist_tf.models import applications
from fmnist_tf.safe_loading import load_keras_file


def _pixels(shape, count=4, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(count, *shape), dtype=np.uint8)


@pytest.mark.parametrize("name", ["resnet50", "efficientnet_b0"])
@pytest.mark.parametrize("input_shape", [(32, 32, 3), (28, 28, 1)])
def test_registered_models_turn_raw_pixels_into_logits(name, input_shape):
    model = models.build(name, num_classes=7, input_shape=input_shape)
    assert model.inputs[0].dtype == "uint8"
    assert np.asarray(model(_pixels(input_shape), training=False)).shape == (4, 7)
    # Fashion-MNIST's 28 px are padded to 32; without ImageNet weights a gray input keeps a 1-channel stem.
    assert tuple(model.get_layer(applications.BACKBONE_NAME).input.shape) == (None, 32, 32, input_shape[2])
    assert [layer.name for layer in model.layers[-3:]] == ["head_pool", "head_dropout", "logits"]


def test_image_size_resizes_the_input():
    model = applications.application("efficientnet_b0", input_shape=(28, 28, 1), image_size=64)
    assert tuple(model.get_layer(applications.BACKBONE_NAME).input.shape) == (None, 64, 64, 1)


def test_gray_preprocessing_is_the_average_of_the_rgb_one():
    gray = np.full((1, 2, 2, 1), 100.0, dtype=np.float32)
    # ResNet50 subtracts the ImageNet means (B, G, R) = (103.939, 116.779, 123.68); their average is 114.7993.
    preprocessed = np.asarray(applications.ApplicationPreprocessing("resnet50")(gray))
    np.testing.assert_allclose(preprocessed, np.full((1, 2, 2, 1), 100.0 - 114.7993), atol=1e-3)


@pytest.mark.parametrize("name, blocks, head_top_block_weights", [("resnet50", 17, 14), ("efficientnet_b0", 18, 5)])
def test_freeze_and_unfreeze_change_the_trainable_weights(name, blocks, head_top_block_weights):
    model = applications.application(name, input_shape=(32, 32, 3))
    everything = len(model.trainable_weights)
    assert len(applications.backbone_blocks(model)) == blocks
    applications.freeze_backbone(model)
    assert [w.path for w in model.trainable_weights] == ["logits/kernel", "logits/bias"]
    applications.unfreeze_backbone(model, num_blocks=1)
    assert len(model.trainable_weights) == head_top_block_weights
    applications.unfreeze_backbone(model)
    assert len(model.trainable_weights) == everything
    with pytest.raises(ValueError, match=f"num_blocks is {blocks + 1}; expected 0 to {blocks}"):
        applications.unfreeze_backbone(model, num_blocks=blocks + 1)


@pytest.mark.parametrize("file_name", ["resnet50_notop.weights.h5", "resnet50_notop.h5"])
def test_a_weights_file_saved_from_one_model_loads_into_another(tmp_path, file_name):
    source = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(32, 32, 3))
    path = str(tmp_path / file_name)
    if file_name.endswith(".weights.h5"):
        source.save_weights(path)
    else:
        source.save(path)  # the legacy HDF5 format of Keras's published ImageNet files
    model = applications.application("resnet50", input_shape=(28, 28, 1), weights_path=path)
    # ImageNet weights want RGB: the gray channel is replicated.
    assert model.get_layer("gray_to_rgb").output.shape == (None, 32, 32, 3)
    for loaded, saved in zip(model.get_layer(applications.BACKBONE_NAME).weights, source.weights):
        np.testing.assert_array_equal(loaded.numpy(), saved.numpy())


def test_a_weights_file_that_does_not_fit_names_the_official_file(tmp_path):
    path = str(tmp_path / "efficientnetb0_notop.weights.h5")
    keras.applications.EfficientNetB0(include_top=False, weights=None, input_shape=(32, 32, 3)).save_weights(path)
    with pytest.raises(applications.WeightsFileError, match=r"does not fit resnet50 .*"
                                                            r"resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"):
        applications.application("resnet50", input_shape=(32, 32, 3), weights_path=path)
    with pytest.raises(applications.WeightsFileError, match="no such weights file"):
        applications.application("resnet50", input_shape=(32, 32, 3), weights_path=str(tmp_path / "absent.h5"))


def test_efficientnet_with_a_local_file_normalizes_as_keras_imagenet_build(tmp_path, monkeypatch):
    source = keras.applications.EfficientNetB0(include_top=False, weights=None, input_shape=(32, 32, 3))
    normalization = next(layer for layer in source.layers if isinstance(layer, keras.layers.Normalization))
    # What Keras's file holds: the ImageNet means, and the standard deviations where the variance belongs.
    normalization.adapt_mean.assign([0.485, 0.456, 0.406])
    normalization.adapt_variance.assign(list(applications.EFFICIENTNET_IMAGENET_STDDEV_RGB))
    path = str(tmp_path / "efficientnetb0_notop.weights.h5")
    source.save_weights(path)
    # Keras's own weights="imagenet" build, pointed at the local file instead of its download.
    monkeypatch.setattr(keras.src.applications.efficientnet.file_utils, "get_file", lambda *args, **kwargs: path)
    reference = keras.applications.EfficientNetB0(include_top=False, weights="imagenet", input_shape=(32, 32, 3))
    model = applications.application("efficientnet_b0", input_shape=(32, 32, 3), weights_path=path)
    backbone = model.get_layer(applications.BACKBONE_NAME)
    # The stem's output: deeper, a randomly initialized network's activations fade to nearly zero.
    stem = keras.Model(backbone.input, backbone.get_layer("stem_activation").output)
    reference_stem = keras.Model(reference.input, reference.get_layer("stem_activation").output)
    images = _pixels((32, 32, 3)).astype(np.float32)
    expected = np.asarray(reference_stem(images, training=False))
    assert np.abs(expected).max() > 1.0
    np.testing.assert_allclose(np.asarray(stem(images, training=False)), expected, rtol=1e-5, atol=1e-5)


def _compiled(model):
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_two_training_steps_reduce_the_loss():
    keras.utils.set_random_seed(0)
    model = _compiled(applications.application("resnet50", input_shape=(32, 32, 3), dropout_rate=0.0))
    labels = np.array([0, 1, 2, 3])
    history = model.fit(_pixels((32, 32, 3)), labels, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]


def test_a_frozen_backbone_keeps_its_weights_and_batchnorm_statistics():
    keras.utils.set_random_seed(0)
    model = applications.application("efficientnet_b0", input_shape=(28, 28, 1))
    applications.freeze_backbone(model)
    backbone = model.get_layer(applications.BACKBONE_NAME)
    before = [w.numpy().copy() for w in backbone.weights]
    logits_before = model.get_layer("logits").kernel.numpy().copy()
    _compiled(model).fit(_pixels((28, 28, 1)), np.array([0, 1, 2, 3]), batch_size=4, epochs=1, verbose=0)
    for weight, value in zip(backbone.weights, before):
        np.testing.assert_array_equal(weight.numpy(), value, err_msg=weight.path)
    assert not np.array_equal(model.get_layer("logits").kernel.numpy(), logits_before)


def test_a_saved_keras_file_loads_back_with_its_preprocessing(tmp_path):
    model = applications.application("efficientnet_b0", input_shape=(28, 28, 1))
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = load_keras_file(path)  # fmnist_tf's own preprocessing layer is on the allowlist
    pixels = _pixels((28, 28, 1))
    np.testing.assert_allclose(np.asarray(loaded(pixels, training=False)), np.asarray(model(pixels, training=False)),
                               rtol=1e-5, atol=1e-5)
