"""Where runs live: ``$SCAN_EXPLORER_WORKSPACE``, else the per-user data folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV = "SCAN_EXPLORER_WORKSPACE"
APP = "scan-explorer"


def user_data_dir() -> Path:
    """Linux: $XDG_DATA_HOME or ~/.local/share; macOS: ~/Library/Application Support;
    Windows: %APPDATA% (each + /scan-explorer)."""
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / APP


def default_workspace() -> Path:
    """``$SCAN_EXPLORER_WORKSPACE`` when set, else ``user_data_dir() / "workspace"``."""
    env = os.environ.get(ENV)
    if env:
        return Path(env).expanduser()
    return user_data_dir() / "workspace"
