"""Small seeded IDX files for tests: 28x28 images a model can learn from their label, and raw IDX bytes to break.

``write_tiny_idx_dir(folder)`` writes the four ``.gz`` files (60 train, 20 test examples, all 10 classes).
"""

import gzip
import os
import struct

import numpy as np

from fmnist_tf.data.catalog import FASHION_MNIST, IMAGE_HEIGHT, IMAGE_WIDTH, NUM_CLASSES

TINY_NUM_EXAMPLES = {"train": 60, "test": 20}
BAND_ROWS = 4  # class k brightens rows 2k+2 .. 2k+5


def tiny_examples(num_examples, seed):
    """(uint8 [N,28,28], uint8 [N]): every class present, each image a bright band of rows set by its label."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(num_examples) % NUM_CLASSES).astype(np.uint8)
    images = rng.integers(0, 40, size=(num_examples, IMAGE_HEIGHT, IMAGE_WIDTH), dtype=np.uint8)
    rows = np.arange(IMAGE_HEIGHT)
    first_row = 2 * labels[:, np.newaxis] + 2
    in_band = (rows >= first_row) & (rows < first_row + BAND_ROWS)
    images[in_band] += 200
    return images, labels


def idx_bytes(array, magic=b"\x00\x00", dtype_code=0x08, shape=None):
    """The IDX encoding of a uint8 array; ``shape`` overrides the dimension sizes written in the header."""
    shape = array.shape if shape is None else shape
    header = magic + bytes([dtype_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_gz(path, raw, compresslevel=9):
    """Writes ``raw`` gzip-compressed, with a fixed timestamp so the bytes (and digests) are reproducible."""
    with open(path, "wb") as stream:
        stream.write(gzip.compress(raw, compresslevel=compresslevel, mtime=0))
    return str(path)


def write_tiny_idx_dir(directory, seed=0):
    """Writes the four Fashion-MNIST-named ``.gz`` files of a tiny dataset into ``directory``; returns it."""
    os.makedirs(directory, exist_ok=True)
    for split_seed, (split, num_examples) in enumerate(TINY_NUM_EXAMPLES.items(), start=seed):
        images, labels = tiny_examples(num_examples, split_seed)
        write_gz(os.path.join(directory, FASHION_MNIST.file(split, "images").name), idx_bytes(images))
        write_gz(os.path.join(directory, FASHION_MNIST.file(split, "labels").name), idx_bytes(labels))
    return str(directory)
