"""atheris target for the IDX reader: any bytes, gzip-compressed or not, read as an array, images and labels.

``python fuzz/idx_target.py -max_total_time=60 build/fuzz/idx fuzz/corpus/idx`` (or ``make fuzz``). Only
IdxFormatError may escape a reader; anything else is a crash libFuzzer reports with the input that caused it.
"""

import gzip

from fmnist_tf.data import idx
from fmnist_tf.data.errors import IdxFormatError
from harness import run_fuzzer, write_scratch_file

READERS = (idx.read_idx_array, idx.read_idx_images, idx.read_idx_labels)


def TestOneInput(data: bytes):  # noqa: N802 (the name atheris and libFuzzer use)
    path = write_scratch_file(data, "input-idx")
    for read in READERS:
        try:
            read(path)
        except IdxFormatError:
            pass


def main():
    run_fuzzer(TestOneInput, [idx, gzip])


if __name__ == "__main__":
    main()
