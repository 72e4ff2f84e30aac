"""The quickstart notebook runs from top to bottom (its code cells, in order, in one namespace)."""

import json
import os
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).parents[1]
NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"


@pytest.mark.skipif(not (ROOT / "weights" / "leaps.ckpt").exists(), reason="needs the shipped checkpoint")
def test_quickstart_notebook_runs(tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.setenv("QUICKSTART_ROOT", str(ROOT))
    monkeypatch.setenv("QUICKSTART_RUNS", str(tmp_path))
    cells = [c for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    namespace: dict = {}
    for i, cell in enumerate(cells):
        exec(compile("".join(cell["source"]), f"quickstart cell {i}", "exec"), namespace)  # noqa: S102
    assert namespace["cem"]["evaluations"] <= 640 and namespace["shc"]["evaluations"] <= 3000
    assert len(namespace["samples"]) == 5
    assert os.listdir(tmp_path)
