"""benchmark/throughput.py's pipeline section: each reader's training stream, timed, and set against training."""

import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmark"))

import throughput  # noqa: E402
from idx_files import write_tiny_idx_dir  # noqa: E402


def test_every_reader_reports_its_first_and_later_epochs_rates(tmp_path):
    write_tiny_idx_dir(str(tmp_path))
    methods = throughput.pipeline_methods(str(tmp_path), batch_size=4, later_epochs=2)
    assert list(methods) == ["memory (decoded .gz files)", "IDX .gz streaming", "CSV streaming"]
    for name, run in methods.items():
        rates = run()
        assert list(rates) == [f"{name}, first epoch", f"{name}, later epochs"]
        assert all(0 < rate < math.inf for rate in rates.values()), name


def test_readers_are_set_against_the_fastest_training_rate():
    medians = {"training": {"keras Model.fit": 2000.0, "Estimator loop (fmnist_tf), bfloat16 mixed precision": 10000.0},
               "pipeline": {"memory (decoded .gz files), first epoch": 100000.0,
                            "memory (decoded .gz files), later epochs": 600000.0,
                            "CSV streaming, later epochs": 450000.0}}
    paragraph = "\n".join(throughput.readers_against_training(medians))
    assert ("(Estimator loop (fmnist_tf), bfloat16 mixed precision, 10000 images/s): "
            "memory (decoded .gz files) 60x, CSV streaming 45x.") in paragraph
