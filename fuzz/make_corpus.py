"""Writes the seed corpus of each fuzz target: small valid files of every kind, and one of each way to break them.

``python fuzz/make_corpus.py`` rewrites fuzz/corpus/idx/ and fuzz/corpus/csv/ (committed; the test suite replays
them through each target's TestOneInput). Deterministic: gzip without a timestamp, fixed pixel patterns.
"""

import gzip
import os
import struct

import numpy as np

from fmnist_tf.data import csv, idx

CORPUS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def _images(count):
    """uint8 [count, 28, 28]: image k has a bright band of rows starting at row 2k (compresses to a few bytes)."""
    images = np.zeros((count, 28, 28), np.uint8)
    for number in range(count):
        images[number, 2 * number:2 * number + 4] = 200 + number
    return images


def _idx_header(dtype_code, shape):
    return idx.MAGIC_ZERO_BYTES + bytes([dtype_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def _gz(data):
    return gzip.compress(data, mtime=0)


def idx_seeds():
    labels = idx.encode_idx(np.arange(10, dtype=np.uint8))
    images = idx.encode_idx(_images(2))
    compressed_images = _gz(images)
    corrupt_crc = bytearray(compressed_images)
    corrupt_crc[-8] ^= 0xFF  # the CRC-32 of the trailer
    return {
        "labels.gz": _gz(labels),
        "labels.idx": labels,
        "images.gz": compressed_images,
        "images_none.gz": _gz(idx.encode_idx(np.zeros((0, 28, 28), np.uint8))),
        "int8.idx": idx.encode_idx(np.array([[-128, 0, 127]], np.int8)),
        "int16.gz": _gz(idx.encode_idx(np.array([[-2, 1], [300, -32768]], np.int16))),
        "int32.idx": idx.encode_idx(np.array([2**31 - 1, -1], np.int32)),
        "float32.idx": idx.encode_idx(np.array([[0.5, -0.0], [np.inf, np.nan]], np.float32)),
        "float64_4d.gz": _gz(idx.encode_idx(np.linspace(-1, 1, 16).reshape(2, 2, 2, 2))),
        "two_members.gz": _gz(labels[:6]) + _gz(labels[6:]),
        "bad_magic.idx": b"\x01\x00" + labels[2:],
        "unknown_element_type.idx": _idx_header(0x0A, (10,)) + labels[8:],
        "no_dimensions.idx": _idx_header(0x08, ()),
        "header_cut.gz": _gz(labels[:6]),
        "payload_short.gz": _gz(labels[:-1]),
        "payload_long.gz": _gz(labels + b"\x00"),
        "huge_count.gz": _gz(_idx_header(0x08, (2**32 - 1, 28, 28)) + images[16:]),
        "empty_with_huge_sizes.idx": _idx_header(0x08, (0, 2**32 - 1, 2**32 - 1)),
        "label_out_of_range.gz": _gz(labels[:-1] + b"\x0a"),
        "images_27_rows.gz": _gz(_idx_header(0x08, (1, 27, 28)) + images[16:16 + 27 * 28]),
        "gzip_cut.gz": compressed_images[:len(compressed_images) // 2],
        "gzip_bad_crc.gz": bytes(corrupt_crc),
        "gzip_trailing_garbage.gz": _gz(labels) + b"garbage",
    }


def _row(label, pixels):
    return ",".join(str(value) for value in [label, *pixels]) + "\n"


def csv_seeds():
    # A valid row has 785 fields (1.6 KB at least) and the header 6.7 KB: only the seeds that need them have them.
    blank = [0] * csv.NUM_PIXELS
    varied = [value % 256 for value in range(csv.NUM_PIXELS)]
    seeds = {
        "header_and_row.csv": csv.HEADER + "\n" + _row(0, blank),
        "rows.csv": _row(3, blank) + _row(9, varied),
        "windows_line.csv": _row(3, blank).replace("\n", "\r\n"),
        "blank_line_after.csv": _row(3, blank) + "\n",
        "empty.csv": "",
        "bad_header.csv": "label,pixel1,pixel2\n",
        "short_row.csv": "3,0,0\n",
        "label_10.csv": _row(10, blank),
        "pixel_256.csv": _row(3, [256] + blank[1:]),
        "leading_zero.csv": _row(3, ["07"] + blank[1:]),
    }
    return {name: text.encode("ascii") for name, text in seeds.items()}


def write_corpus(target, seeds):
    """Makes fuzz/corpus/``target`` hold exactly ``seeds`` ({file name: bytes})."""
    folder = os.path.join(CORPUS_DIR, target)
    os.makedirs(folder, exist_ok=True)
    for name in set(os.listdir(folder)) - set(seeds):
        os.remove(os.path.join(folder, name))
    for name, data in seeds.items():
        with open(os.path.join(folder, name), "wb") as stream:
            stream.write(data)
    return folder


def main():
    for target, seeds in (("idx", idx_seeds()), ("csv", csv_seeds())):
        folder = write_corpus(target, seeds)
        print(f"{folder}: {len(seeds)} files, {sum(map(len, seeds.values()))} bytes")


if __name__ == "__main__":
    main()
