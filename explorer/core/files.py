"""Reading the user's files safely: configs, scan specs, presets, checkpoints.

Every reader of a file the user names goes through here, so that whatever the path holds
the app answers at once with an error naming the file (and, where there is one, the line):

- only regular files: directories, FIFOs, sockets and devices (a symlink to /dev/zero) are
  refused from ``os.stat`` before opening, and the file is opened with ``O_NONBLOCK`` and
  checked again with ``fstat``, so a FIFO swapped in between cannot hang the reader;
- the size is capped before reading (a 2 GB sparse file is refused from its size), and at
  most ``cap + 1`` bytes are ever read (a file that grows while read is refused too);
- text must be UTF-8 (a leading BOM is dropped);
- JSON: nesting deeper than ``json_depth`` is refused before parsing (no recursion),
  duplicate keys, ``NaN`` / ``Infinity`` literals and numbers that overflow a float
  (``1e400``) are errors; TOML (``tomllib``) gets the same checks on what it parsed.

Errors are :class:`FileError`, a :class:`ConfigError` on the field ``file``: the CLI exits 2
and the window shows the message.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .errors import ConfigError, FieldProblem

MiB, GiB = 2**20, 2**30


@dataclass(frozen=True)
class FileLimits:
    text_bytes: int = 16 * MiB  # configs, specs, presets: real ones are a few KB
    checkpoint_bytes: int = 2 * GiB  # a hidden-4096 LSTM with Adam's state is ~0.8 GB
    json_depth: int = 64  # nesting of arrays / objects; real files nest fewer than 6 deep


def limits() -> FileLimits:
    """The limits in force: the defaults, or ``SCAN_EXPLORER_MAX_TEXT_BYTES`` /
    ``SCAN_EXPLORER_MAX_CHECKPOINT_BYTES`` (bytes) from the environment."""
    base = FileLimits()
    changes = {}
    for name, var in (("text_bytes", "SCAN_EXPLORER_MAX_TEXT_BYTES"),
                      ("checkpoint_bytes", "SCAN_EXPLORER_MAX_CHECKPOINT_BYTES")):
        raw = os.environ.get(var)
        if raw:
            try:
                changes[name] = max(int(raw), 0)
            except ValueError:
                raise ConfigError(FieldProblem(var, f"is {raw!r}; set it to a number of bytes")) from None
    return FileLimits(**{**base.__dict__, **changes})


class FileError(ConfigError):
    """A file that cannot be read as what was asked for (the field is ``file``)."""

    def __init__(self, message: str):
        super().__init__(FieldProblem("file", message))
        self.text = message


# -- bytes ---------------------------------------------------------------------------------
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _kind(mode: int) -> str:
    return next((word for test, word in _KINDS if test(mode)), "not a regular file")


def _size_words(n: int) -> str:
    return f"{n / GiB:.1f} GiB" if n >= GiB else f"{n / MiB:.1f} MiB" if n >= MiB else f"{n} bytes"


def _check_stat(path: Path, st: os.stat_result, cap: int, what: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise FileError(f"{path} is {_kind(st.st_mode)}, not a regular file; choose a {what} file")
    if st.st_size > cap:
        raise FileError(f"{path} is {_size_words(st.st_size)}, over the {_size_words(cap)} limit for a {what} "
                        "file; is it the right file?")


def open_regular(path: str | Path, cap: int, what: str = "text") -> BinaryIO:
    """``path`` opened for binary reading, once it is known to be a regular file of at most
    ``cap`` bytes (symlinks are followed, then judged by what they point to)."""
    path = Path(path)
    try:
        _check_stat(path, os.stat(path), cap, what)  # refuse devices and FIFOs before opening them
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FileError(f"no file at {path}") from None
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        _check_stat(path, os.fstat(fd), cap, what)  # what was opened, should the path have changed
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_bytes(path: str | Path, cap: int | None = None, what: str = "text") -> bytes:
    """The whole file, refused unless it is a regular file of at most ``cap`` bytes."""
    cap = limits().text_bytes if cap is None else cap
    with open_regular(path, cap, what) as fh:
        try:
            data = fh.read(cap + 1)
        except OSError as exc:
            raise FileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > cap:
        raise FileError(f"{path} grew past the {_size_words(cap)} limit for a {what} file while being read")
    return data


def _where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, column {pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def decode_text(data: bytes, source: str) -> str:
    """UTF-8 text (a BOM dropped); an error naming the first bad byte's line and column."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise FileError(f"{source} is not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}, column "
                        f"{column}; save it as UTF-8") from None


def read_text(path: str | Path, cap: int | None = None, what: str = "text") -> str:
    return decode_text(read_bytes(path, cap, what), str(path))


# -- JSON ----------------------------------------------------------------------------------
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)  # a JSON string literal (linear: no backtracking)
_CONSTANT = re.compile(r"(?<![\w.])-?(?:NaN|Infinity)(?![\w.])")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


class _Refused(Exception):
    def __init__(self, what: str):
        self.what = what


def _refuse_constant(name: str):
    raise _Refused(name)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(text)
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"duplicate key {key!r}")
        out[key] = value
    return out


def _blank_strings(text: str) -> str:
    """``text`` with every string literal's inside blanked, positions kept."""
    return _STRING.sub(lambda m: '"' + " " * (len(m.group()) - 2) + '"', text)


def _too_deep(text: str, depth: int) -> int | None:
    """The position where nesting first exceeds ``depth`` (strings skipped), else None.
    Counts brackets with a regex sweep, no recursion; exact for valid JSON."""
    opened = 0
    for m in re.finditer(r'[\[{]|[\]}]|"[^"\\]*(?:\\.[^"\\]*)*"', text):
        c = m.group()
        if c in "[{":
            opened += 1
            if opened > depth:
                return m.start()
        elif c in "]}":
            opened -= 1
    return None


def _quick_depth(text: str) -> int:
    """An upper bound of the nesting depth, at C speed (strings removed, brackets counted)."""
    import numpy as np

    bare = np.frombuffer(_STRING.sub("", text).encode("utf-8", "replace"), np.uint8)
    step = np.isin(bare, (ord("["), ord("{"))).astype(np.int32) - np.isin(bare, (ord("]"), ord("}")))
    return int(np.cumsum(step).max()) if step.size else 0


def parse_json(text: str, source: str) -> Any:
    """JSON with the checks above; ``source`` names the file in errors."""
    depth = limits().json_depth
    if _quick_depth(text) > depth and (pos := _too_deep(text, depth)) is not None:
        raise FileError(f"{source} nests arrays / objects more than {depth} deep (at {_where(text, pos)}); "
                        "a config or spec never needs that")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant,
                          parse_float=_float)
    except _Refused as exc:
        raise FileError(f"{source}: {_explain(text, exc.what)}") from None
    except json.JSONDecodeError as exc:
        raise FileError(f"{source} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of over 4300 digits
        raise FileError(f"{source} is not valid JSON: {exc}") from None


def _explain(text: str, what: str) -> str:
    """Where the refused thing is, found again in the text (the parser's hooks get no position)."""
    if what.startswith("duplicate key"):
        pos = _duplicate_position(text)
        at = f" in the object at {_where(text, pos)}" if pos is not None else ""
        return f"{what}{at}; each key may appear once in an object"
    blank = _blank_strings(text)
    if what in ("NaN", "Infinity", "-Infinity"):
        m = _CONSTANT.search(blank)
        at = f" at {_where(text, m.start())}" if m else ""
        return f"{what}{at} is not a number JSON allows; write a finite number"
    m = next((m for m in _NUMBER.finditer(blank) if m.group() == what), None)
    at = f" at {_where(text, m.start())}" if m else ""
    return f"the number {what[:40]}{at} is too large for a float (over 1.8e308); write a finite number"


def _duplicate_position(text: str) -> int | None:
    """The offset of the first object holding a repeated key (the pure-Python scanner, which
    reports positions; only run on a file already known to be shallow and to repeat a key)."""
    found: list[int] = []

    def parse_object(s_and_end, strict, scan_once, object_hook, object_pairs_hook, memo=None):
        pairs, end = json.decoder.JSONObject(s_and_end, strict, scan_once, None, list, memo)
        if not found and len({k for k, _ in pairs}) < len(pairs):
            found.append(s_and_end[1] - 1)
        return dict(pairs), end

    decoder = json.JSONDecoder()
    decoder.parse_object = parse_object
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    try:
        decoder.decode(text)
    except (ValueError, RecursionError):
        return None
    return found[0] if found else None


# -- TOML ----------------------------------------------------------------------------------
def parse_toml(text: str, source: str) -> dict:
    """TOML with the same guarantees: bounded nesting, finite numbers (TOML forbids duplicate keys)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: no tomllib
        raise FileError(f"{source}: reading TOML needs Python 3.11 or later; save the config as JSON") from None
    try:
        data = tomllib.loads(text, parse_float=_float)
    except _Refused as exc:
        raise FileError(f"{source}: the number {exc.what} is not finite; write a finite number") from None
    except tomllib.TOMLDecodeError as exc:
        raise FileError(f"{source} is not valid TOML: {exc}") from None
    except RecursionError:
        raise FileError(f"{source} nests arrays / tables more than {limits().json_depth} deep") from None
    _check_tree(data, source)
    return data


def _check_tree(data: Any, source: str) -> None:
    """Depth of parsed data, without recursion."""
    depth, stack = limits().json_depth, [(data, 1)]
    while stack:
        value, level = stack.pop()
        if level > depth:
            raise FileError(f"{source} nests arrays / tables more than {depth} deep")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, level + 1) for child in children)


# -- documents -----------------------------------------------------------------------------
def read_json(path: str | Path) -> Any:
    return parse_json(read_text(path, what="JSON"), str(path))


def read_document(path: str | Path) -> Any:
    """A JSON file, or TOML when the name ends in ``.toml``."""
    if str(path).lower().endswith(".toml"):
        return parse_toml(read_text(path, what="TOML"), str(path))
    return read_json(path)
