"""The model registry and the TF1-faithful convnet."""

import numpy as np
import pytest

from fmnist_tf import models


def test_convnet_has_the_tf1_benchmark_parameter_count():
    assert models.build("convnet").count_params() == 3_274_634


def test_convnet_keeps_the_tf1_layer_names_and_shapes():
    model = models.build("convnet")
    shapes = {layer.name: tuple(layer.output.shape) for layer in model.layers}
    assert shapes["conv1"] == (None, 28, 28, 32)
    assert shapes["pool1"] == (None, 14, 14, 32)
    assert shapes["conv2"] == (None, 14, 14, 64)
    assert shapes["pool2"] == (None, 7, 7, 64)
    assert shapes["dense"] == (None, 1024)
    assert shapes["logits"] == (None, 10)
    assert model.get_layer("dropout").rate == 0.4


def test_convnet_takes_raw_uint8_pixels_and_returns_logits():
    model = models.build("convnet")
    assert model.inputs[0].dtype == "uint8"
    pixels = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28, 1), dtype=np.uint8)
    logits = np.asarray(model(pixels, training=False))
    assert logits.shape == (3, 10)
    # Logits, not probabilities: rows need not sum to one.
    assert not np.allclose(logits.sum(axis=1), 1.0)


def test_unknown_model_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown model 'lenet9'.*convnet"):
        models.build("lenet9")


def trainable_parameters(model):
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


@pytest.mark.parametrize("name, input_shape, expected", [
    # The published counts of these architectures on 32x32 RGB images (CIFAR-10), trainable weights.
    ("resnet18", (32, 32, 3), 11_173_962),
    ("wrn28_10", (32, 32, 3), 36_479_194),
    # LeNet-5 as LeCun et al. (1998) count it.
    ("lenet5", (28, 28, 1), 61_706),
])
def test_architectures_have_their_published_parameter_counts(name, input_shape, expected):
    assert trainable_parameters(models.build(name, input_shape=input_shape)) == expected


@pytest.mark.parametrize("name", ["lenet5", "small_cnn", "fast_cnn", "resnet18", "preact_resnet18", "wrn16_4"])
def test_every_model_takes_uint8_pixels_and_returns_logits_per_class(name):
    model = models.build(name)
    assert model.inputs[0].dtype == "uint8"
    pixels = np.random.default_rng(0).integers(0, 256, size=(2, 28, 28, 1), dtype=np.uint8)
    assert tuple(model(pixels, training=False).shape) == (2, 10)


def test_fast_cnn_has_no_batch_norm_and_pools_to_3x3():
    model = models.build("fast_cnn")
    shapes = {layer.name: tuple(layer.output.shape) for layer in model.layers}
    assert [shapes[f"pool{stage}"] for stage in (1, 2, 3)] == [(None, 14, 14, 32), (None, 7, 7, 64),
                                                                (None, 3, 3, 128)]
    assert not any("batch_norm" in layer.name for layer in model.layers)
    assert model.count_params() == 584_170


def test_resnet_stages_run_at_28_14_7_and_4_pixels():
    model = models.build("resnet18")
    shapes = {layer.name: tuple(layer.output.shape) for layer in model.layers}
    assert shapes["stem_conv"] == (None, 28, 28, 64)
    assert [shapes[f"stage{stage}_block2_out"] for stage in (1, 2, 3, 4)] == [
        (None, 28, 28, 64), (None, 14, 14, 128), (None, 7, 7, 256), (None, 4, 4, 512)]


@pytest.mark.parametrize("builder, message", [
    (lambda: models.resnet.resnet(50), "ResNet depth 50; expected one of \\[18, 34\\]"),
    (lambda: models.resnet.wide_resnet(30, 2), "WideResNet depth 30; expected 6n \\+ 4"),
])
def test_unsupported_depths_are_refused(builder, message):
    with pytest.raises(ValueError, match=message):
        builder()


def test_standardization_inside_the_model_maps_the_dataset_mean_to_zero():
    model = models.build("small_cnn")
    standardize = model.get_layer("standardize")
    mean_pixel = np.full((1, 28, 28, 1), round(0.2860 * 255), np.uint8)
    assert abs(float(np.asarray(standardize(mean_pixel)).mean())) < 0.01
