"""Reading user files (issue 9, item 2): only regular files, size capped before reading,
strict UTF-8 JSON / TOML; every refusal is a ConfigError naming the file (and the line)."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from explorer.core.errors import ConfigError
from explorer.core.files import FileError, limits, parse_json, read_document
from explorer.core.lab.config import ExperimentConfig
from explorer.core.lab.persistence import load_config
from explorer.core.presets import read_json, resolve

ROOT = Path(__file__).resolve().parents[1]


def refused(path, *words):
    start = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        read_json(path)
    assert time.perf_counter() - start < 2.0, "refused at once"
    text = str(err.value)
    assert str(path) in text and all(w in text for w in words), text
    return text


@pytest.mark.parametrize("content, words", [
    (b'{"title": "caf\xe9"}', ("not UTF-8", "byte 0xe9", "line 1, column 15")),
    (b'{\n "a": 1,\n "b": \xff\xfe}', ("not UTF-8", "line 3")),
    (b"[" * 100_000 + b"]" * 100_000, ("more than 64 deep", "line 1, column 65")),
    (b'{"a": ' + b'{"b": ' * 200 + b"1" + b"}" * 201, ("more than 64 deep",)),
    (b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', None),  # brackets in a string
    (b'{"train": {"lr": 0.1,\n "lr": 0.2}}', ("duplicate key 'lr'", "line 1, column 11")),
    (b'{"train": {"lr": NaN}}', ("NaN at line 1, column 18",)),
    (b'{"a": "NaN", "b":\n Infinity}', ("Infinity at line 2, column 2",)),
    (b'{"a": [1, -Infinity]}', ("-Infinity",)),
    (b'{"train": {"lr": 1e400}}', ("1e400", "too large", "line 1, column 18")),
    (b'{"a": -2.5e999}', ("-2.5e999",)),
    (b'{"a": 1', ("not valid JSON", "line 1")),
    (b'{"a": ' + b"9" * 5000 + b"}", ("not valid JSON",)),  # over Python's int digit limit
    (b"[1, 2]", ("must hold a JSON object",)),
    (b"\xef\xbb\xbf{}", None),  # a UTF-8 BOM is fine
])
def test_bad_json_is_refused_naming_file_and_line(tmp_path, content, words):
    path = tmp_path / "f.json"
    path.write_bytes(content)
    if words is None:
        assert isinstance(read_json(path), dict)
    else:
        refused(path, *words)


def test_devices_fifos_directories_and_huge_files_are_refused_at_once(tmp_path):
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    refused(tmp_path / "zero.json", "character device")
    os.mkfifo(tmp_path / "fifo.json")
    refused(tmp_path / "fifo.json", "FIFO")  # an open() would block until a writer came
    (tmp_path / "dir.json").mkdir()
    refused(tmp_path / "dir.json", "directory")
    with open(tmp_path / "sparse.json", "wb") as fh:
        fh.truncate(2 * 2**30)  # 2 GB, no blocks on disk
    refused(tmp_path / "sparse.json", "2.0 GiB", "16.0 MiB limit")
    refused(tmp_path / "missing.json", "no file at")


def test_a_fifo_swapped_in_after_the_check_cannot_hang(tmp_path, monkeypatch):
    """The file is opened O_NONBLOCK and checked again with fstat: a FIFO put in place
    between the stat and the open is refused, not waited on."""
    import explorer.core.files as files

    path = tmp_path / "swap.json"
    path.write_text("{}")
    real_open = os.open

    def swap_then_open(p, flags, *args):
        if Path(p) == path:
            path.unlink()
            os.mkfifo(path)
        return real_open(p, flags, *args)

    monkeypatch.setattr(files.os, "open", swap_then_open)
    done = []
    worker = threading.Thread(target=lambda: done.append(pytest.raises(FileError, read_document, path)))
    worker.start()
    worker.join(5)
    if worker.is_alive():  # free the reader so the test ends; the assert below fails
        with open(path, "w"):
            pass
        worker.join()
    assert done and "FIFO" in str(done[0].value)


def test_the_size_limit_is_a_setting(tmp_path, monkeypatch):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"title": "x" * 5000}))
    assert read_json(path)["title"]
    monkeypatch.setenv("SCAN_EXPLORER_MAX_TEXT_BYTES", "1000")
    assert limits().text_bytes == 1000
    refused(path, "over the 1000 bytes limit")
    monkeypatch.setenv("SCAN_EXPLORER_MAX_TEXT_BYTES", "lots")
    with pytest.raises(ConfigError, match="SCAN_EXPLORER_MAX_TEXT_BYTES"):
        read_json(path)


def test_toml_configs_have_the_same_guarantees(tmp_path):
    good = tmp_path / "c.toml"
    good.write_text('title = "t"\n[train]\nlr = 0.01\nsteps = 7\n[model]\ncell = "gru"\n')
    config = load_config(good)
    assert isinstance(config, ExperimentConfig) and config.train.lr == 0.01 and config.train.steps == 7
    assert resolve("train", str(good))["train"]["steps"] == 7
    for text, words in [
        ("[train]\nlr = nan\n", "nan"),
        ("[train]\nlr = inf\n", "inf"),
        ("[train]\nlr = 1e400\n", "1e400"),
        ("[train]\nlr = 1\nlr = 2\n", "not valid TOML"),  # duplicate keys: TOML itself forbids them
        ("a = " + "[" * 100_000 + "]" * 100_000 + "\n", "deep"),
        ("a = " + "[" * 70 + "]" * 70 + "\n", "deep"),
        ("x = \n", "not valid TOML"),
    ]:
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(ConfigError) as err:
            load_config(bad)
        assert str(bad) in str(err.value) and words in str(err.value)
    (tmp_path / "latin.toml").write_bytes(b'title = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(tmp_path / "latin.toml")


def test_parsing_a_big_flat_file_stays_fast():
    text = json.dumps({"rows": [{"k": i, "s": "[" * 3} for i in range(100_000)]})  # ~2.4 MB
    start = time.perf_counter()
    assert len(parse_json(text, "big.json")["rows"]) == 100_000
    assert time.perf_counter() - start < 3.0


def test_the_cli_exits_2_with_the_message(tmp_path):
    """One run per command here; tests/bad_inputs runs every bad file through the CLI."""
    (tmp_path / "latin.json").write_bytes(b'{"title": "caf\xe9"}')
    (tmp_path / "deep.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    for command, name in [("scan", "latin.json"), ("train", "deep.json")]:
        out = subprocess.run([sys.executable, "main.py", command, str(tmp_path / name)], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-1500:]
        assert name in out.stderr
