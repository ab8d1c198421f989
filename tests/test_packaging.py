"""Packaging: the wheel carries the presets as package data, found however it is installed.

One wheel is built per session (from a copy of the package files, so the worktree gets no
build/ folder), installed with ``pip install --prefix`` and ``--target`` into temporary
folders, and run as a user would, from another directory: ``presets`` and ``scan
fibonacci``. ``--user`` installs into the same layout as ``--prefix`` (``lib/pythonX.Y/
site-packages``); pip refuses ``--user`` inside a virtual environment, so it is covered by
the prefix install.
"""

import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from explorer.app import main
from explorer.core import presets

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["explorer", "resources", "pyproject.toml", "setup.py", "README.md", "LICENSE"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("wheel")
    # the installed setuptools when it is new enough for pyproject (PEP 639 license), else pip's isolated build
    isolation = ["--no-build-isolation"] if _setuptools_major() >= 77 else []
    _pip("wheel", "--no-deps", *isolation, "-w", str(out), str(src))
    (built,) = out.glob("scan_explorer-*.whl")
    return built


def _setuptools_major() -> int:
    try:
        return int(importlib.metadata.version("setuptools").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return 0


def _pip(*args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # else pip sees a checkout as installed
    done = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr


def _run(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m explorer ARGS`` from ``cwd`` with the installed copy first on the path
    (and the venv's site-packages for torch)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", presets.ENV)}
    env["PYTHONPATH"] = os.pathsep.join([str(site), sysconfig.get_paths()["purelib"]])
    return subprocess.run([sys.executable, "-m", "explorer", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def _where(site: Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", presets.ENV)}
    env["PYTHONPATH"] = str(site)
    code = "import explorer.core.presets as p; print(p.__file__); print(p.resources_dir())"
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_wheel_holds_presets_and_license(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for kind in presets.KINDS:
        for name in presets.list_presets(kind):
            assert f"explorer/resources/presets/{kind}/{name}.json" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not [n for n in names if not n.startswith(("explorer/", "scan_explorer-"))]  # no top-level folders


def test_prefix_install_finds_the_presets(wheel, tmp_path):
    prefix, elsewhere = tmp_path / "prefix", tmp_path / "elsewhere"
    elsewhere.mkdir()
    _pip("install", "--no-deps", "--no-index", "--ignore-installed", "--prefix", str(prefix), str(wheel))
    (site,) = prefix.glob("lib/python*/site-packages")
    where = _where(site, elsewhere)
    assert str(site) in where and str(ROOT) not in where  # the installed copy, its own presets
    listed = _run(site, elsewhere, "presets")
    assert listed.returncode == 0, listed.stderr
    assert "fibonacci" in listed.stdout and "train presets:" in listed.stdout
    ran = _run(site, elsewhere, "scan", "fibonacci")
    assert ran.returncode == 0, ran.stderr
    assert "Fibonacci" in ran.stdout and "ran 10 steps" in ran.stdout


def test_target_install_without_resources_is_a_message(wheel, tmp_path):
    target, elsewhere = tmp_path / "target", tmp_path / "elsewhere"
    elsewhere.mkdir()
    _pip("install", "--no-deps", "--no-index", "--ignore-installed", "--target", str(target), str(wheel))
    listed = _run(target, elsewhere, "presets", "--json")
    assert listed.returncode == 0 and "fibonacci" in listed.stdout, listed.stderr
    shutil.rmtree(target / "explorer" / "resources")  # a broken install
    for args in (["presets"], ["scan", "fibonacci"]):
        done = _run(target, elsewhere, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        assert "cannot find the presets" in done.stderr and presets.ENV in done.stderr


def test_checkout_resources_win():
    assert presets.resources_dir() == ROOT / "resources"


def test_override_without_presets_is_a_message(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(presets.ENV, str(tmp_path))
    assert main(["presets"]) == 2
    err = capsys.readouterr().err
    assert f"{presets.ENV}={tmp_path} has no presets/ folder" in err
    (tmp_path / "presets" / "scan").mkdir(parents=True)
    shutil.copy2(ROOT / "resources" / "presets" / "scan" / "fibonacci.json", tmp_path / "presets" / "scan")
    assert presets.list_presets("scan") == ["fibonacci"] and presets.list_presets("train") == []


def test_preset_names_are_names_not_paths():
    with pytest.raises(presets.ConfigError, match="no scan preset named '../scan/fibonacci'"):
        presets.load_preset("scan", "../scan/fibonacci")


def test_license_matches_pyproject():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["license"] == "MIT" and meta["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 Scan Explorer contributors" in text
