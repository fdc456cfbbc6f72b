"""The PyTorch baseline of benchmark/throughput.py: the same convnet, and a loop that trains it."""

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmark"))

import torch_convnet  # noqa: E402

from fmnist_tf import models  # noqa: E402


def test_torch_convnet_has_the_keras_convnets_parameter_count():
    torch_parameters = sum(parameter.numel() for parameter in torch_convnet.torch_convnet().parameters())
    assert torch_parameters == models.build("convnet").count_params() == 3_274_634


def test_torch_convnet_gives_ten_logits_per_image():
    assert torch_convnet.torch_convnet()(torch_convnet.torch.zeros(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_torch_training_runs_past_the_epoch_end_and_reports_images_per_second(dtype):
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), rng.integers(0, 10, 64)
    # 5 steps of 32 from 64 images: the batches wrap around the epoch's end.
    rate = torch_convnet.time_torch_training(images, labels, steps=4, warmup_steps=1, batch_size=32, dtype=dtype)
    assert 0 < rate < float("inf")
