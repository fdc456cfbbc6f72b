"""The fuzz targets without atheris: every seed of fuzz/corpus/ replayed through its target's TestOneInput.

A seed that made a reader raise anything but its typed error, or a validated CSV file stream other than the
rows it counted, fails here; ``make fuzz`` runs the same targets under atheris, mutating these seeds.
"""

import contextlib
import sys
from pathlib import Path

import pytest

from fmnist_tf.data import CsvFormatError, IdxFormatError, csv, idx

FUZZ_DIR = Path(__file__).resolve().parents[1] / "fuzz"
sys.path.insert(0, str(FUZZ_DIR))  # the targets are scripts that import their sibling harness.py

import csv_target  # noqa: E402
import idx_target  # noqa: E402
import make_corpus  # noqa: E402

TARGETS = {"idx": idx_target, "csv": csv_target}
SEEDS = {"idx": make_corpus.idx_seeds(), "csv": make_corpus.csv_seeds()}
CORPUS_FILES = sorted((target, path.name) for target in TARGETS for path in (FUZZ_DIR / "corpus" / target).iterdir())


@pytest.mark.parametrize("target, name", CORPUS_FILES)
def test_corpus_file_raises_only_typed_errors_in_its_target(target, name):
    TARGETS[target].TestOneInput((FUZZ_DIR / "corpus" / target / name).read_bytes())


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_committed_corpus_is_what_make_corpus_writes(target):
    committed = {path.name: path.read_bytes() for path in (FUZZ_DIR / "corpus" / target).iterdir()}
    assert committed == SEEDS[target], "regenerate it: python fuzz/make_corpus.py"


def readable_seeds(target, read):
    """Names of the committed seeds of ``target`` that ``read`` accepts."""
    accepted = set()
    for name in sorted(SEEDS[target]):
        with contextlib.suppress(IdxFormatError, CsvFormatError):
            read(str(FUZZ_DIR / "corpus" / target / name))
            accepted.add(name)
    return accepted


def test_idx_corpus_holds_valid_files_of_every_element_type_and_broken_ones():
    assert readable_seeds("idx", idx.read_idx_array) == {
        "labels.gz", "labels.idx", "images.gz", "images_none.gz", "int8.idx", "int16.gz", "int32.idx",
        "float32.idx", "float64_4d.gz", "two_members.gz", "label_out_of_range.gz", "images_27_rows.gz"}
    assert readable_seeds("idx", idx.read_idx_images) == {"images.gz", "images_none.gz"}
    assert readable_seeds("idx", idx.read_idx_labels) == {"labels.gz", "labels.idx", "two_members.gz"}


def test_csv_corpus_holds_valid_files_and_broken_ones():
    assert readable_seeds("csv", csv.validate_csv) == {"header_and_row.csv", "rows.csv", "windows_line.csv"}
