"""The reference convnet in PyTorch, trained by a plain eager loop: the other framework's baseline for
``benchmark/throughput.py``. ``time_torch_training(images, labels, steps, warmup_steps, batch_size)``; needs
``pip install .[bench]`` (PyTorch's CPU build), and is left out of the table without it.
"""

import time

import numpy as np
import torch
from torch import nn


def torch_convnet(num_classes=10, dropout_rate=0.4):
    """conv5x5x32 - pool - conv5x5x64 - pool - dense1024 - dropout - logits, as ``fmnist_tf.models.convnet``."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),      # [B, 32, 14, 14]
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),     # [B, 64, 7, 7]
        nn.Flatten(),                                                    # [B, 3136]
        nn.Linear(7 * 7 * 64, 1024), nn.ReLU(), nn.Dropout(dropout_rate),
        nn.Linear(1024, num_classes))


def time_torch_training(images, labels, steps, warmup_steps, batch_size, dtype="float32", seed=0):
    """Images/second of ``steps`` eager training steps (Adam 0.001, batches taken in order, as the Keras
    methods' unshuffled dataset) after ``warmup_steps``; bfloat16 runs under CPU autocast."""
    torch.manual_seed(seed)
    model = torch_convnet()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    # uint8 [N, 1, 28, 28] in memory, as the Keras methods' dataset holds the images; each batch is scaled to float in
    # the step, as the Keras convnet's Rescaling layer does.
    pixels = torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1)
    targets = torch.from_numpy(labels.astype(np.int64))
    batches_per_epoch = len(pixels) // batch_size
    autocast = dtype == "bfloat16"

    def train(first_step, count):
        model.train()
        for step in range(first_step, first_step + count):
            start = (step % batches_per_epoch) * batch_size
            features = pixels[start:start + batch_size].float() / 255.0
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                loss = loss_fn(model(features), targets[start:start + batch_size])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        return float(loss.detach())  # waits for the last step, as the Keras methods return after theirs

    train(0, warmup_steps)
    started = time.perf_counter()
    train(warmup_steps, steps)
    return steps * batch_size / (time.perf_counter() - started)
