"""benchmark/throughput.py's imagenet section: a synthetic ILSVRC tree, the pipeline and ResNet50 tables."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmark"))

import imagenet_throughput  # noqa: E402
import rate_tables  # noqa: E402
import throughput  # noqa: E402

from fmnist_tf.data import imagenet  # noqa: E402

PIPELINE_ROWS = ["JPEG, training (decode + random resized crop + flip)",
                 "JPEG, evaluation (decode + resize + center crop)", "TFRecord shards, training crops"]


def _rows(lines):
    """{method: (median, ratio)} of the Markdown table rows in ``lines``."""
    rows = {}
    for line in lines:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("| ") and cells[1].replace(".", "").isdigit():
            rows[cells[0]] = (float(cells[1]), float(cells[2]))
    return rows


def test_synthetic_tree_has_the_ilsvrc_layout_and_photograph_sized_jpegs(tmp_path):
    mean_bytes = imagenet_throughput.write_synthetic_imagenet(str(tmp_path), num_classes=2, examples_per_class=3)
    paths, labels = imagenet.list_imagenet_files(str(tmp_path), "train")
    assert [Path(path).name for path in paths[:4]] == ["n00000000_1.JPEG", "n00000000_2.JPEG", "n00000000_3.JPEG",
                                                       "n00000001_1.JPEG"]
    assert labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert 10_000 < mean_bytes < 200_000  # a 500x375 photograph is some tens of kB


def test_imagenet_section_reports_every_row_with_positive_rates():
    lines, medians = throughput.imagenet_section(None, repeats=2, num_classes=2, examples_per_class=2,
                                                 image_size=32, batch_size=2, steps=1, warmup_steps=1,
                                                 inference_batches=1)
    rows = _rows(lines)
    assert list(rows) == PIPELINE_ROWS + [
        "ResNet50 training, Estimator loop, float32", "ResNet50 training, Estimator loop, bfloat16 mixed precision",
        "ResNet50 inference, model.predict, float32", "ResNet50 inference, model.predict, bfloat16 mixed precision"]
    assert all(median > 0 for median, _ in rows.values())
    assert [rows[name][1] for name in (PIPELINE_ROWS[0], "ResNet50 training, Estimator loop, float32")] == [1.0, 1.0]
    assert set(medians) == set(rows)
    report = "\n".join(lines)
    assert "synthetic ILSVRC-layout tree" in report
    assert "GPU: not measured" in report or "GPU(s) visible" in report


@pytest.mark.parametrize("sections, title", [
    (["training"], "# Throughput of the convnet"),
    (["imagenet"], "# Throughput of ImageNet-style work (ResNet50)"),
    (["pipeline", "imagenet"], "# Throughput of the convnet and of ImageNet-style work (ResNet50)")])
def test_report_title_names_what_was_measured(sections, title):
    assert throughput.report_title(sections) == title


@pytest.mark.parametrize("rate, shown", [(2.3456, "2.35"), (41.26, "41.3"), (1234.4, "1234")])
def test_slow_rates_keep_three_significant_digits(rate, shown):
    assert rate_tables.format_rate(rate) == shown
