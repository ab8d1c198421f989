"""The static guards CI runs (ruff, import-linter) are configured and can fail.

CI runs ``ruff check explorer tests bench tools`` and ``lint-imports`` on the tree itself;
these tests prove, on a copy with one planted mistake, that each guard catches its kind.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return path


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "explorer", tmp_path / "explorer", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


PLANTED = {"taps": "import PySide6.QtCore", "tree": "import pyqtgraph", "errors": "from explorer.gui import threads"}


def test_import_contract_catches_qt_in_core(tmp_path):
    lint = _tool("lint-imports")
    copy = _copy(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(copy)}
    kept = subprocess.run([lint, "--no-cache"], cwd=copy, capture_output=True, text=True, timeout=120, env=env)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    for name, line in PLANTED.items():
        module = copy / "explorer" / "core" / f"{name}.py"
        module.write_text(module.read_text() + f"\n{line}  # noqa: E402\n")
    broken = subprocess.run([lint, "--no-cache"], cwd=copy, capture_output=True, text=True, timeout=120, env=env)
    assert broken.returncode != 0 and "BROKEN" in broken.stdout
    for name, target in (("taps", "PySide6"), ("tree", "pyqtgraph"), ("errors", "explorer.gui.threads")):
        assert f"explorer.core.{name} -> {target}" in broken.stdout, broken.stdout


def test_ruff_config_catches_an_unused_name(tmp_path):
    ruff = _tool("ruff")
    copy = _copy(tmp_path)
    module = copy / "explorer" / "core" / "taps.py"
    module.write_text(module.read_text() + "\nimport os\n\ndef f(x=[]):\n    return undefined_name\n")
    done = subprocess.run([ruff, "check", "--no-cache", "--output-format", "concise", "explorer/core/taps.py"],
                          cwd=copy, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    for rule in ("F401", "F821", "B006"):
        assert rule in done.stdout, done.stdout
