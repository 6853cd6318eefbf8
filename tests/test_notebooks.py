"""The notebooks execute top to bottom (outputs are stripped in git)."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run(name, tmp_path):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return nb


def test_quickstart_notebook(tmp_path):
    nb = run("quickstart.ipynb", tmp_path)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "schedules rebuilt" in text and "predicted final loss" in text


def test_proxy_runs_notebook(tmp_path):
    pytest.importorskip("torch")
    nb = run("proxy_runs.ipynb", tmp_path)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "WSD held out: mean error" in text


def test_continual_pretraining_notebook(tmp_path):
    nb = run("continual_pretraining.ipynb", tmp_path)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "held out wsd2, val_old: predicted final" in text and "re-warm peak" in text
