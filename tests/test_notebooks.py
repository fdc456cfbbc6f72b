"""The notebooks run top to bottom on tiny settings (their `parameters` cell overridden), and are committed clean."""

import nbformat
import pytest
from nbclient import NotebookClient

from exported_models import REAL_DATA, REPO, needs_real_data, trained_model
from idx_files import write_tiny_idx_dir

NOTEBOOKS = REPO / "notebooks"
NOTEBOOK_NAMES = ["quickstart", "error_analysis", "edge_deployment", "classic_benchmark"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Generated data for the notebooks that train, and the train CLI's model_dir for those that take one."""
    root = tmp_path_factory.mktemp("notebooks")
    return {"root": root, "data_dir": write_tiny_idx_dir(root / "data")}


def trained_model_dir():
    return str(trained_model()["model_dir"])


def tiny_parameters(name, tiny):
    out = str(tiny["root"] / name)
    return {
        "quickstart": dict(DATA_DIR=tiny["data_dir"], MODEL_DIR=out, TRAIN_STEPS=3, BATCH_SIZE=20,
                           VALIDATION_SIZE=10, VERIFY_FILES=False),
        "error_analysis": dict(MODEL_DIR=trained_model_dir(), REPORT_DIR=out, TSNE_SIZE=20, DATA_DIR=str(REAL_DATA)),
        "edge_deployment": dict(MODEL_DIR=trained_model_dir(), EXPORT_DIR=out, DATA_DIR=str(REAL_DATA),
                                CALIBRATION_SIZE=60, LATENCY_RUNS=10),
        "classic_benchmark": dict(DATA_DIR=tiny["data_dir"], MODEL_DIR=out, ROUNDS=2, STEPS_PER_ROUND=2,
                                  BATCH_SIZE=20, VERIFY_FILES=False),
    }[name]


def parameters_cell_index(notebook):
    indices = [index for index, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])]
    assert len(indices) == 1, f"expected one cell tagged 'parameters', found {len(indices)}"
    return indices[0]


@needs_real_data
@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_runs_top_to_bottom_on_tiny_settings(name, tiny):
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    overrides = tiny_parameters(name, tiny)
    source = "\n".join(f"{key} = {value!r}" for key, value in overrides.items())
    notebook.cells.insert(parameters_cell_index(notebook) + 1, nbformat.v4.new_code_cell(source))
    # Raises CellExecutionError, with the cell and its traceback, on the first failing cell.
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}).execute()
    assert all(cell.execution_count for cell in notebook.cells if cell.cell_type == "code")


@needs_real_data
@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_committed_notebook_has_no_outputs_and_every_parameter_is_overridden(name, tiny):
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]
    parameters = notebook.cells[parameters_cell_index(notebook)].source
    names = {line.split("=")[0].strip() for line in parameters.splitlines() if "=" in line}
    assert names == set(tiny_parameters(name, tiny))
