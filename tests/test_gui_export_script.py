"""File > Export as PyTorch script: the forms' experiment, custom cells included, as a runnable file."""

from __future__ import annotations

import subprocess
import sys

from explorer.core.lab.config import ExperimentConfig
from explorer.core.presets import load_preset
from gui_helpers import settings, window  # noqa: F401 - fixtures


def test_file_menu_exports_the_forms_experiment(window, tmp_path):
    actions = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert "Export as PyTorch scrip&t…" in actions
    window.forms.set_config(ExperimentConfig.from_dict(load_preset("train", "indrnn")))
    path = tmp_path / "indrnn.py"
    window.export_script(str(path))
    assert "def cell_step(x, h_tm1, W, u, b):" in path.read_text()
    out = subprocess.run([sys.executable, "-I", str(path), "--steps", "2"], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert out.returncode == 0 and "step 2 loss" in out.stdout, out.stderr[-1000:]


def test_an_export_with_a_bad_field_says_so(window, tmp_path):
    window.forms.forms["model"].editors["hidden_size"].setText("zero")
    window.export_script(str(tmp_path / "x.py"))
    assert not (tmp_path / "x.py").exists()
    assert window.last_alert is not None and "model.hidden_size" in window.last_alert.text()
    window.last_alert.close()
