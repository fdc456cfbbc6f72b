"""The Kaggle-style CSV: the atomic writer, the streaming reader, a typed error for each kind of bad row, and
fuzzed inputs."""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import event, given, settings
from hypothesis import strategies as st

from fmnist_tf.data import CsvFormatError, MissingFilesError, csv_dataset, write_csv
from fmnist_tf.data import csv as csv_format
from idx_files import tiny_examples
from mutations import EDITS, IN_PLACE_EDITS, PARSER_PROPERTY, mutated

IMAGES, LABELS = tiny_examples(30, seed=5)
HEADER = "label," + ",".join(f"pixel{number}" for number in range(1, 785))


def read_all(dataset):
    images, labels = zip(*dataset.as_numpy_iterator())
    return np.stack(images), np.array(labels)


def data_row(label=3, pixels=None):
    return ",".join(str(value) for value in [label, *(pixels if pixels is not None else [0] * 784)])


def write_lines(path, lines):
    path.write_text("".join(f"{line}\n" for line in lines))
    return str(path)


@pytest.mark.parametrize("header", [True, False])
def test_written_csv_reads_back_as_the_same_examples(tmp_path, header):
    path = str(tmp_path / "train.csv")
    write_csv(IMAGES, LABELS, path, header=header)
    dataset = csv_dataset(path)
    assert dataset.element_spec == (tf.TensorSpec([28, 28, 1], tf.uint8), tf.TensorSpec([], tf.int32))
    images, labels = read_all(dataset)
    np.testing.assert_array_equal(images[..., 0], IMAGES)
    np.testing.assert_array_equal(labels, LABELS)


def test_written_csv_is_kaggle_format(tmp_path):
    path = tmp_path / "train.csv"
    write_csv(IMAGES[:2], LABELS[:2], str(path))
    lines = path.read_text().splitlines()
    assert lines[0] == HEADER
    assert lines[1] == ",".join(str(value) for value in [LABELS[0], *IMAGES[0].reshape(-1)])
    assert len(lines) == 3


def test_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "train.csv"
    path.write_text("previous\n")

    def fail(rows):
        raise OSError("disk full")

    monkeypatch.setattr(csv_format, "_rows_as_csv_bytes", fail)
    with pytest.raises(OSError, match="disk full"):
        write_csv(IMAGES, LABELS, str(path))
    assert path.read_text() == "previous\n"
    assert [entry.name for entry in tmp_path.iterdir()] == ["train.csv"]


def test_write_csv_rejects_labels_out_of_range(tmp_path):
    with pytest.raises(ValueError, match="labels must be 0-9; got values 0-12"):
        write_csv(IMAGES[:2], np.array([0, 12]), str(tmp_path / "train.csv"))


def test_windows_line_endings_are_read(tmp_path):
    path = tmp_path / "train.csv"
    path.write_bytes(f"{HEADER}\r\n{data_row(7)}\r\n".encode())
    _, labels = read_all(csv_dataset(str(path)))
    assert labels.tolist() == [7]


def test_wrong_number_of_fields_names_the_line_and_expected_count(tmp_path):
    path = write_lines(tmp_path / "bad.csv", [HEADER, data_row(), data_row(pixels=[0] * 783)])
    with pytest.raises(CsvFormatError, match=r"line 3 has 784 fields; expected 785") as error:
        csv_dataset(path)
    assert path in str(error.value)


def test_non_integer_value_names_the_line_column_and_expected_range(tmp_path):
    pixels = [0] * 784
    pixels[9] = "1.5"
    path = write_lines(tmp_path / "bad.csv", [data_row(), data_row(), data_row(pixels=pixels)])
    with pytest.raises(CsvFormatError, match=r"line 3, column 11 \(pixel10\) is '1.5'; expected an integer 0-255"
                       ) as error:
        csv_dataset(path)
    assert path in str(error.value)


def test_pixel_out_of_range_names_the_column_and_expected_range(tmp_path):
    pixels = [0] * 784
    pixels[783] = 256
    path = write_lines(tmp_path / "bad.csv", [HEADER, data_row(pixels=pixels)])
    with pytest.raises(CsvFormatError, match=r"line 2, column 785 \(pixel784\) is '256'; expected an integer 0-255"
                       ) as error:
        csv_dataset(path)
    assert path in str(error.value)


def test_label_out_of_range_names_the_column_and_expected_range(tmp_path):
    path = write_lines(tmp_path / "bad.csv", [HEADER, data_row(label=10)])
    with pytest.raises(CsvFormatError, match=r"line 2, column 1 \(label\) is '10'; expected an integer 0-9"
                       ) as error:
        csv_dataset(path)
    assert path in str(error.value)


def test_empty_field_names_the_column(tmp_path):
    path = write_lines(tmp_path / "bad.csv", [HEADER, data_row().replace("3,0,", "3,,", 1)])
    with pytest.raises(CsvFormatError, match=r"line 2, column 2 \(pixel1\) is empty; expected an integer 0-255"
                       ) as error:
        csv_dataset(path)
    assert path in str(error.value)


def test_bad_row_after_many_good_ones_is_found_by_its_line(tmp_path):
    path = str(tmp_path / "train.csv")
    write_csv(np.repeat(IMAGES, 100, axis=0), np.repeat(LABELS, 100), path)
    with open(path, "a") as stream:
        stream.write(data_row(label=-1) + "\n")
    with pytest.raises(CsvFormatError, match=r"line 3002, column 1 \(label\) is '-1'; expected an integer 0-9"):
        csv_dataset(path)


def test_header_only_is_no_data_rows(tmp_path):
    path = write_lines(tmp_path / "empty.csv", [HEADER])
    with pytest.raises(CsvFormatError, match="no data rows after line 1; expected at least one row") as error:
        csv_dataset(path)
    assert path in str(error.value)


def test_empty_file_is_no_data_rows(tmp_path):
    path = write_lines(tmp_path / "empty.csv", [])
    with pytest.raises(CsvFormatError, match="no data rows after line 0") as error:
        csv_dataset(path)
    assert path in str(error.value)


def test_unknown_header_names_the_expected_header(tmp_path):
    path = write_lines(tmp_path / "bad.csv", ["class," + HEADER[6:], data_row()])
    with pytest.raises(CsvFormatError, match="line 1 is 'class,pixel1.*; expected the header 'label,pixel1"
                       ) as error:
        csv_dataset(path)
    assert path in str(error.value)


def test_missing_csv_is_a_missing_files_error(tmp_path):
    with pytest.raises(MissingFilesError, match="absent.csv: no such file"):
        csv_dataset(str(tmp_path / "absent.csv"))


# Property tests: any small set of examples survives a write and a read; any bytes, and any damage to a valid
# file, end in a validated file that streams every row it counted, or in a CsvFormatError.

ROW = data_row()
# Pieces of text near the format, so drawn files get past the first line more often than random bytes do.
CSV_PIECES = st.sampled_from(["0", "9", "10", "255", "256", "007", "-1", " ", ",", ",,", "\n", "\r", "\r\n", "\x00",
                              "é", "\ufeff", HEADER, ROW, ROW + "\n"])
CSV_LIKE_BYTES = st.lists(CSV_PIECES, max_size=8).map(lambda pieces: "".join(pieces).encode("utf-8"))
# A CSV file that passes the first line costs a traced tf.data pipeline (up to a second): fewer examples.
CSV_PROPERTY = settings(PARSER_PROPERTY, max_examples=40)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """One folder for a whole property test: hypothesis runs many examples per call of a test function."""
    return tmp_path_factory.mktemp("csv_properties")


def validate_or_refuse(path):
    """validate_csv either raises CsvFormatError or returns a file whose stream yields exactly its rows."""
    try:
        validated = csv_format.validate_csv(path)
    except CsvFormatError:
        event("refused")
        return
    event("streamed")
    images, labels = read_all(validated.dataset())
    assert images.shape == (len(validated.labels), 28, 28, 1)
    np.testing.assert_array_equal(labels, validated.labels)


@settings(CSV_PROPERTY, max_examples=10)
@given(count=st.integers(1, 4), seed=st.integers(0, 2**32 - 1), header=st.booleans(), windows_lines=st.booleans())
def test_written_examples_read_back_for_any_pixels_labels_and_line_endings(scratch, count, seed, header,
                                                                           windows_lines):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=count, dtype=np.uint8)
    path = scratch / "examples.csv"
    write_csv(images, labels, str(path), header=header)
    if windows_lines:
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    read_images, read_labels = read_all(csv_dataset(str(path)))
    np.testing.assert_array_equal(read_images[..., 0], images)
    np.testing.assert_array_equal(read_labels, labels)


@CSV_PROPERTY
@given(data=st.binary(max_size=64) | CSV_LIKE_BYTES)
def test_arbitrary_bytes_only_raise_csv_format_error(scratch, data):
    path = scratch / "arbitrary.csv"
    path.write_bytes(data)
    validate_or_refuse(str(path))


@CSV_PROPERTY
@given(data=st.data(), header=st.booleans(), in_place=st.booleans())
def test_damaged_files_only_raise_csv_format_error(scratch, data, header, in_place):
    varied_row = data_row(7, [value % 256 for value in range(784)])  # every pixel value, one to three digits
    valid = (f"{HEADER}\n" if header else "") + f"{ROW}\n{varied_row}\n"
    # In-place edits of the rows often leave a valid file: those must then stream every row they hold.
    damaged = mutated(valid.encode("ascii"), start=len(HEADER) + 1 if header else 0,
                      edits=IN_PLACE_EDITS if in_place else EDITS)
    path = scratch / "damaged.csv"
    path.write_bytes(data.draw(damaged))
    validate_or_refuse(str(path))
