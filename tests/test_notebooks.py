"""Every notebook runs top to bottom (STYLE.md: every entry point smoke-tested).

Each notebook has one code cell tagged ``parameters``; as papermill does, the
test inserts a cell after it that makes the run small, then executes the
notebook in a real Jupyter kernel from the ``notebooks/`` folder.
"""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))

SMALL = {
    "REPLICATIONS": 2,
    "STEPS": 24,
    "N_SCHOOLS": 200,  # 5 schools in each of the scenarios' 40 towns: room for 4 town ties
    "WORKERS": 1,
    "TIGHTNESS": [0.0, 1.0],
    "N_WORLDS": 12,  # notebooks/robustness.ipynb
    "POPULATION": 10,
    "GENERATIONS": 2,
    "PREDICTIVE": 6,
    "REPEATS": 2,
    "ORIGINS": 1,
}  # notebooks/calibration.ipynb


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean(path):
    """Saved without outputs, so diffs show code and text only and nothing stale is shown."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    given = nb.cells[at].source
    small = {k: v for k, v in {**SMALL, "OUT": str(tmp_path)}.items() if f"{k} =" in given}
    nb.cells.insert(
        at + 1, nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in small.items()))
    )
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure was shown"
    assert any(tmp_path.rglob("runs.parquet")), "results went somewhere else"
