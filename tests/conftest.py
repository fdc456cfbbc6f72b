"""Shared fixtures: a tiny seeded IDX dataset on disk; the warnings absl logged."""

import logging

import pytest

from idx_files import write_tiny_idx_dir


@pytest.fixture
def tiny_idx_dir(tmp_path):
    """A folder with the four ``.gz`` files of a tiny dataset: 60 train and 20 test images, all 10 classes.

    Each 28x28 image has a bright band of rows that depends on its label, so a model can learn them.
    """
    return write_tiny_idx_dir(tmp_path / "tiny_idx")


@pytest.fixture
def absl_warnings(caplog):
    """A function returning the messages of the warnings (and worse) logged through absl so far in the test."""
    # On the absl logger itself: parsing absl flags elsewhere in the session sets its level from --verbosity.
    caplog.set_level(logging.INFO, logger="absl")
    return lambda: [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
