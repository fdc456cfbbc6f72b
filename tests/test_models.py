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
