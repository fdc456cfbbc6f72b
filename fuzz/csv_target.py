"""atheris target for the CSV reader: any bytes validated, and a file that passes streamed to its last row.

``python fuzz/csv_target.py -max_total_time=60 build/fuzz/csv fuzz/corpus/csv`` (or ``make fuzz``). Only
CsvFormatError may escape validation, and a validated file must stream exactly the rows it counted.
"""

from fmnist_tf.data import csv
from fmnist_tf.data.errors import CsvFormatError
from harness import run_fuzzer, write_scratch_file


def TestOneInput(data: bytes):  # noqa: N802 (the name atheris and libFuzzer use)
    path = write_scratch_file(data, "input.csv")
    try:
        validated = csv.validate_csv(path)
    except CsvFormatError:
        return
    streamed_rows = sum(len(labels) for _, labels in validated.batches().as_numpy_iterator())
    if streamed_rows != len(validated.labels):
        raise AssertionError(f"validated {len(validated.labels)} rows, streamed {streamed_rows}")


def main():
    run_fuzzer(TestOneInput, [csv])


if __name__ == "__main__":
    main()
