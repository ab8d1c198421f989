"""The core never imports Qt: import every module of explorer.core with Qt blocked."""

import subprocess
import sys
import textwrap
from pathlib import Path

import explorer.core

CORE = Path(explorer.core.__file__).parent


def test_every_core_module_imports_with_qt_blocked():
    modules = sorted(
        "explorer.core." + ".".join(p.relative_to(CORE).with_suffix("").parts)
        for p in CORE.rglob("*.py")
        if p.name != "__init__.py"
    )
    assert len(modules) >= 5
    code = textwrap.dedent(
        f"""
        import importlib, sys

        class BlockQt:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6", "qtpy", "superqt"):
                    raise ImportError("Qt is blocked in the core: " + name)

        sys.meta_path.insert(0, BlockQt())
        for name in {modules!r}:
            importlib.import_module(name)
        loaded = [m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6")]
        assert not loaded, loaded
        print("ok", len({modules!r}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")


def test_cli_runs_without_loading_qt():
    code = (
        "import sys; from explorer.app import main; rc = main(['presets']); "
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]; sys.exit(rc)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
