"""Every bad input of issue 9, as a command line of ``python main.py``.

``CASES`` lists them; ``prepare(folder)`` writes the files they need into ``folder`` (bad JSON and TOML,
FIFOs, a /dev/zero symlink, a sparse file, damaged checkpoints, huge configs and scans)
and returns the cases with their paths. Each must exit 2 with a message and no traceback, within 10 s,
under a 3 GiB address-space cap (see ``runner.py``). Cases another engineer's work settles
carry ``pending``: the reason they may fail until that work lands (an xfail, not strict).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path



@dataclass(frozen=True)
class Case:
    name: str  # short id: group/what
    argv: tuple[str, ...]  # after ``python main.py``
    pending: str | None = None  # why it may fail until other work lands (xfail, not strict)


def _json(path: Path, data) -> Path:
    path.write_text(json.dumps(data))
    return path


def _files(d: Path) -> None:
    (d / "latin.json").write_bytes(b'{"title": "caf\xe9"}')
    (d / "deep.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    (d / "dup.json").write_bytes(b'{"train": {"lr": 0.1, "lr": 0.2}}')
    (d / "big.json").write_bytes(b'{"train": {"lr": 1e400}}')
    (d / "nan.json").write_bytes(b'{"title": NaN, "outputs": []}')
    (d / "list.json").write_bytes(b"[1, 2]")
    (d / "digits.json").write_bytes(b'{"train": {"steps": ' + b"9" * 5000 + b"}}")
    (d / "nan.toml").write_text("[train]\nlr = nan\n")
    (d / "deep.toml").write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    (d / "zero.json").symlink_to("/dev/zero")
    os.mkfifo(d / "fifo.json")
    (d / "folder.json").mkdir()
    with open(d / "sparse.json", "wb") as fh:
        fh.truncate(2 * 2**30)  # 2 GB that take no disk


FILE_CASES = [("scan", "latin.json"), ("train", "latin.json"), ("scan", "deep.json"), ("train", "deep.json"),
              ("train", "dup.json"), ("train", "big.json"), ("scan", "nan.json"), ("scan", "list.json"),
              ("train", "digits.json"), ("train", "nan.toml"), ("train", "deep.toml"), ("scan", "zero.json"),
              ("train", "zero.json"), ("scan", "fifo.json"), ("train", "fifo.json"), ("train", "folder.json"),
              ("scan", "sparse.json"), ("scan", "missing.json")]


def _checkpoints(d: Path) -> None:
    import dataclasses

    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    from explorer.core.lab.config import ExperimentConfig
    from explorer.core.lab.persistence import FORMAT
    from explorer.core.lab.training import Trainer
    from explorer.core.presets import load_preset

    default = ExperimentConfig.from_dict(load_preset("train", "default"))  # the 32-unit GRU that segfaulted
    config = dataclasses.replace(default, task=dataclasses.replace(default.task, heldout_size=4),
                                 train=dataclasses.replace(default.train, steps=2, eval_every=0, probe_every=0))
    trainer = Trainer(config)
    for _ in trainer.reports():
        pass
    good = d / "good.safetensors"
    trainer.checkpoint(good)
    with safe_open(str(good), "pt") as fh:
        meta_text = fh.metadata()["meta"]
        base = {k: fh.get_tensor(k) for k in fh.keys()}

    def cut(t):
        for k in [k for k in t if k.startswith("optim.") and t[k].dim()]:
            t[k] = t[k].flatten()[:3].clone()  # Adam's fused step segfaulted on these

    def meta_set(*keys, value):
        def change(t, meta):
            target = meta
            for k in keys[:-1]:
                target = target[k]
            target[keys[-1]] = value
        return change

    damage = {
        "cut_optimizer": lambda t, m: cut(t),
        "hidden_mismatch": meta_set("config", "model", "hidden_size", value=8),
        "cell_mismatch": meta_set("config", "model", "cell", value="lstm"),
        "no_readout": lambda t, m: t.pop("model.readout.weight"),
        "no_ema": lambda t, m: t.pop("trainer.ema"),
        "step_text": meta_set("step", value="ten"),
        "step_negative": meta_set("step", value=-5),
        "lr_negative": meta_set("lr_override", value=-1),
        "lr_text_nan": meta_set("lr_override", value="nan"),
        "lr_nan_literal": meta_set("lr_override", value=float("nan")),  # json.dumps writes NaN
        "scalars_list": meta_set("optim_scalars", value=[1, 2]),
        "double": lambda t, m: t.update({"model.readout.bias": t["model.readout.bias"].double()}),
        "n_clipped_shape": lambda t, m: t.update({"trainer.n_clipped": torch.zeros(3)}),
    }
    for name, change in damage.items():
        tensors, meta = dict(base), json.loads(meta_text)
        change(tensors, meta)
        save_file(tensors, str(d / f"{name}.safetensors"), metadata={"format": FORMAT, "meta": json.dumps(meta)})
    torch.save({"format": FORMAT, "meta": meta_text}, d / "no_tensors.pt")
    data = good.read_bytes()
    (d / "truncated.safetensors").write_bytes(data[: len(data) // 2])
    os.mkfifo(d / "fifo.safetensors")
    (d / "zero.safetensors").symlink_to("/dev/zero")


CHECKPOINTS = ["cut_optimizer", "hidden_mismatch", "cell_mismatch", "no_readout", "no_ema", "step_text",
               "step_negative", "lr_negative", "lr_text_nan", "lr_nan_literal", "scalars_list", "double",
               "n_clipped_shape", "no_tensors.pt", "truncated", "fifo", "zero"]


def _options(d: Path) -> None:
    from explorer.core.presets import load_preset

    (d / "exists.txt").write_text("not a folder")
    seed = load_preset("scan", "fibonacci")
    seed["seed"] = 2**64
    _json(d / "seed.json", seed)


def _cuda() -> str:
    """A CUDA device that is not there: ``cuda`` without a GPU, else ``cuda:99``."""
    import torch

    return "cuda:99" if torch.cuda.is_available() else "cuda"


OPTIONS = [  # (name, argv with {d} for the folder and {cuda}, pending)
    ("train-device-cuda", "train default --steps 2 --device {cuda}", None),
    ("train-device-banana", "train default --steps 2 --device banana", None),
    ("scan-device-cuda", "scan fibonacci --device {cuda}", None),
    ("scan-device-banana", "scan fibonacci --device banana", None),
    ("train-steps-negative", "train default --steps -3", None),
    ("train-steps-text", "train default --steps abc", None),
    ("train-threads-negative", "train default --steps 2 --threads -1", None),
    ("train-seed-2**64", f"train default --steps 2 --seed {2**64}", None),
    ("train-out-existing-file", "train default --steps 2 --out {d}/exists.txt", None),
    ("train-out-dev-null", "train default --steps 2 --out /dev/null/x", None),
    ("scan-no-such-preset", "scan nosuch", None),
    ("train-no-such-preset", "train nosuch", None),
    ("scan-seed-2**64", "scan {d}/seed.json", None),
]

NESTED = "ones(10**8) + (" * 18 + "ones(10**8)" + ")" * 18  # 19 tensors each within the per-tensor limit
HUGE_CONFIGS = {
    "lstm_8192x16_batch_65536": {"model": {"cell": "lstm", "hidden_size": 8192, "layers": 16},
                                 "train": {"batch_size": 65_536, "steps": 2}},
    "heldout_100000x10000": {"task": {"min_len": 10_000, "max_len": 10_000, "heldout_size": 100_000},
                             "train": {"steps": 2}},
    "copy_delay_10000": {"task": {"name": "copy", "copy_delay": 10_000, "heldout_size": 100_000},
                         "train": {"batch_size": 65_536, "steps": 2}},
}
HUGE_SPECS = {
    "output_zeros10000_x_100000_steps": {"outputs": [{"name": "y", "expression": "zeros(10000)"}],
                                         "n_steps": 100_000},
    "sequence_zeros1e8_no_n_steps": {"sequences": [{"name": "x", "data": "zeros(10**8)"}],
                                     "outputs": [{"name": "y", "expression": "x"}]},
    "taps_10000": {"sequences": [{"name": "x", "data": "zeros(20000, 100)", "taps": list(range(10_000))}],
                   "outputs": [{"name": "y", "expression": "x"}]},
    "eight_zeros1e8_non_sequences": {"non_sequences": [{"name": f"w{i}", "value": "zeros(10**8)"} for i in range(8)],
                                     "outputs": [{"name": "y", "expression": "w0[0]"}], "n_steps": 2},
    "int_index_1e9_elements": {"non_sequences": [{"name": "w", "value": "ones(10, 1000)[int(zeros(10**6))]"}],
                               "outputs": [{"name": "y", "expression": "w[0]"}], "n_steps": 2},
    "nineteen_nested_ones1e8": {"non_sequences": [{"name": "w", "value": NESTED}],
                                "outputs": [{"name": "y", "expression": "w[0]"}], "n_steps": 2},
    "matmul_1e4_squared": {"non_sequences": [{"name": "w", "value": "ones(10**4, 10**4) @ ones(10**4, 10**4)"}],
                           "outputs": [{"name": "y", "expression": "w[0]"}], "n_steps": 2},
}


def _array_spec(values, **row) -> dict:
    return {"non_sequences": [{"name": "W", "array": {"values": values, "dtype": "float32"}, **row}],
            "outputs": [{"name": "y", "expression": "W"}], "n_steps": 2}


DEEP = 1.0
for _ in range(40):
    DEEP = [DEEP]
ARRAY_SPECS = {  # numbers carried as an array (trained weights), not as an expression
    "ragged": _array_spec([[1.0, 2.0], [3.0]]),
    "text_in_numbers": _array_spec([[1.0, "2"]]),
    "bool_in_numbers": _array_spec([1.0, True]),
    "nested_40_deep": _array_spec(DEEP),
    "not_a_list": _array_spec({"values": 1}),
    "value_and_array": _array_spec([1.0], value="ones(1)"),
    "dtype_float16": {"non_sequences": [{"name": "W", "array": {"values": [1.0], "dtype": "float16"}}],
                      "outputs": [{"name": "y", "expression": "W"}], "n_steps": 2},
    "sequence_2M_rows": {"sequences": [{"name": "x", "array": {"values": [0] * 2_000_000, "dtype": "float32"}}],
                         "outputs": [{"name": "y", "expression": "x"}]},
}


def _arrays(d: Path) -> None:
    for name, data in ARRAY_SPECS.items():
        _json(d / f"array_{name}.json", data)


def _huge(d: Path) -> None:
    for name, data in {**HUGE_CONFIGS, **HUGE_SPECS}.items():
        _json(d / f"{name}.json", data)


def _checkpoint_file(name: str) -> str:
    return name if "." in name else f"{name}.safetensors"


# Every case, known without writing anything (pytest parametrizes over these at collection).
CASES: list[Case] = (
    [Case(f"file/{cmd}-{name}", (cmd, "{d}/" + name)) for cmd, name in FILE_CASES]
    + [Case(f"checkpoint/{n}", ("train", "{d}/" + _checkpoint_file(n), "--steps", "4")) for n in CHECKPOINTS]
    + [Case(f"option/{n}", tuple(argv.split()), pending) for n, argv, pending in OPTIONS]
    + [Case(f"huge-config/{n}", ("train", "{d}/" + f"{n}.json")) for n in HUGE_CONFIGS]
    + [Case(f"huge-scan/{n}", ("scan", "{d}/" + f"{n}.json")) for n in HUGE_SPECS]
    + [Case(f"array-scan/{n}", ("scan", "{d}/" + f"array_{n}.json")) for n in ARRAY_SPECS]
)


def prepare(folder: str | Path, cases: list[Case] = CASES) -> list[Case]:
    """Write the files into ``folder``; the cases with their command lines filled in."""
    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    writers = {"file": _files, "checkpoint": _checkpoints, "option": _options, "huge": _huge, "array": _arrays}
    for group in sorted({c.name.split("/")[0].split("-")[0] for c in cases}):
        writers[group](d)
    cuda = _cuda() if any("{cuda}" in " ".join(c.argv) for c in cases) else "cuda"
    return [Case(c.name, tuple(a.format(d=d, cuda=cuda) for a in c.argv), c.pending) for c in cases]
