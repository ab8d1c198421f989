"""Start-up without Qt's platform plugin: a clear message with the fix, never Qt's abort."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from explorer.gui.platform_check import PACKAGES, problem

ROOT = Path(__file__).resolve().parents[1]


def test_missing_library_is_named_with_its_package_and_the_apt_command():
    text = problem(env={"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"},
                   libraries={"libxcb-nosuch.so.7": "libxcb-nosuch7", "libc.so.6": "libc6"})
    assert "libxcb-nosuch.so.7" in text and "sudo apt-get install -y libxcb-nosuch7" in text
    assert "libc6" not in text.split("README")[0]  # a library that loads is not blamed


def test_offscreen_and_wayland_need_no_xcb_libraries():
    libs = {"libxcb-nosuch.so.7": "libxcb-nosuch7"}
    assert problem(env={"QT_QPA_PLATFORM": "offscreen"}, libraries=libs) is None
    assert problem(env={"WAYLAND_DISPLAY": "wayland-0"}, libraries=libs) is None


def test_no_display_exits_with_the_fix_not_a_qt_abort():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert "cannot open the window" in done.stderr and "xvfb-run" in done.stderr
    assert "platform plugin could be initialized" not in done.stderr and "Traceback" not in done.stderr


def test_readme_apt_line_is_the_list_the_app_checks():
    line = re.search(r"apt-get install -y ([a-z0-9. +-]*)", (ROOT / "README.md").read_text()).group(1)
    named = line.split()
    assert set(PACKAGES) <= set(named) and set(named) - set(PACKAGES) <= {"python3-venv"}
    assert "README_PACKAGES" in (ROOT / ".ci" / "run").read_text()  # CI installs the README's line
