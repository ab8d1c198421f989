"""Checking a checkpoint against the trainer it is to be loaded into, before anything is loaded.

A checkpoint is untrusted input: a tensor cut short reaches Adam's fused step as a buffer of
the wrong size (a segfault), a metadata step of ``"ten"`` or ``-5`` breaks the data stream.
So every tensor's name, shape and dtype is compared with what the checkpoint's own config
builds (the model's ``state_dict``, the optimizer's state after one step, the trainer's
counters, the carried state of truncated BPTT), and every metadata field's type and range
with the limits of the config fields they stand for. The first mismatch raises
:class:`CheckpointError` naming the tensor or field.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from .config import field_meta
from .optim import fast_step, make_optimizer
from .persistence import CheckpointError

DAMAGED = "the checkpoint is damaged or was not written by this version of Scan Explorer"
META_FIELDS = ("config", "step", "epoch", "elapsed_s", "lr_override", "clip", "optim_scalars")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _problem(path: Path, what: str, value, rule: str) -> CheckpointError:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return CheckpointError(f"{path}: {what} is {shown}; it must be {rule} ({DAMAGED})")


def check_meta(path: Path, meta: dict) -> None:
    """Types and ranges of the metadata fields (``config`` is already a validated config)."""
    for key in META_FIELDS:
        if key not in meta:
            raise CheckpointError(f"{path}: the metadata has no {key!r} field ({DAMAGED})")
    for key, limit in (("step", field_meta("train", "steps")["max"]), ("epoch", field_meta("train", "epochs")["max"])):
        value = meta[key]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= limit:
            raise _problem(path, f"metadata field {key!r}", value, f"a whole number from 0 to {limit}")
    if not _number(meta["elapsed_s"]) or meta["elapsed_s"] < 0:
        raise _problem(path, "metadata field 'elapsed_s'", meta["elapsed_s"], "a finite number of seconds >= 0")
    lr = field_meta("train", "lr")
    value = meta["lr_override"]
    if value is not None and not (_number(value) and lr["min"] <= value <= lr["max"]):
        raise _problem(path, "metadata field 'lr_override'", value,
                       f"null or a number from {lr['min']:g} to {lr['max']:g} (train.lr's limits)")
    clip, value = field_meta("train", "clip_norm"), meta["clip"]
    if value is not None and not (_number(value) and 0 < value <= clip["max"]):
        raise _problem(path, "metadata field 'clip'", value,
                       f"null (no clipping) or a number above 0 and at most {clip['max']:g} (train.clip_norm's limits)")
    scalars = meta["optim_scalars"]
    if not isinstance(scalars, dict):
        raise _problem(path, "metadata field 'optim_scalars'", scalars, "an object of numbers")
    for key, value in scalars.items():
        if value is not None and not _number(value):
            raise _problem(path, f"optim_scalars[{key!r}]", value, "a finite number (or null)")


def expected_tensors(trainer) -> tuple[dict[str, tuple], dict[int, set[str]], dict[str, object]]:
    """(required tensors: name -> (shape, dtype); the optimizer's tensor names per parameter
    index, optional as a whole; the optimizer's other values by key ``"i.name"``)."""
    required = {f"model.{k}": (tuple(v.shape), v.dtype) for k, v in trainer.model.state_dict().items()}
    for name in ("trainer.ema", "trainer.n_clipped"):
        required[name] = ((), torch.float32)  # () each
    # the optimizer's state after one (zero-gradient) step on copies of the parameters
    copies = [torch.zeros_like(p, requires_grad=True) for p in trainer.params]  # shaped like each parameter
    for c in copies:
        c.grad = torch.zeros_like(c)
    optimizer = make_optimizer(copies, trainer.config.train)
    fast_step(optimizer)()  # the trainer's own step: the same state, made the same way
    per_param: dict[int, set[str]] = {}
    scalars: dict[str, object] = {}
    for i, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                required_name = f"optim.{i}.{key}"
                per_param.setdefault(i, set()).add(required_name)
                required[required_name] = (tuple(value.shape), value.dtype)
            else:
                scalars[f"{i}.{key}"] = value
    return required, per_param, scalars


def carry_names(trainer) -> dict[str, tuple]:
    """The carried state's tensors of truncated BPTT: per layer h (and c), (batch, hidden)."""
    m, tr = trainer.config.model, trainer.config.train
    if tr.bptt != "truncated":
        return {}
    parts = 2 if trainer.model.cell.two_states else 1
    return {f"carry.{k}.{j}": ((tr.batch_size, m.hidden_size), torch.float32)
            for k in range(m.layers) for j in range(parts)}


def check_tensors(path: Path, tensors: dict, meta: dict, trainer) -> None:
    """Every tensor against the trainer built from the checkpoint's config; the optimizer's
    state is all there for a parameter or absent (a checkpoint of step 0)."""
    required, per_param, scalars = expected_tensors(trainer)
    carry = carry_names(trainer)
    optional = {name for names in per_param.values() for name in names} | set(carry)
    for name in tensors:
        if name not in required and name not in carry:
            where = ("the model built from its config has no such parameter" if name.startswith("model.")
                     else "the optimizer has no such state" if name.startswith("optim.")
                     else "no carried state is expected (train.bptt is not truncated, or no such layer)"
                     if name.startswith("carry.") else "Scan Explorer writes no such tensor")
            raise CheckpointError(f"{path}: unexpected tensor {name!r}: {where} ({DAMAGED})")
    for name, (shape, dtype) in {**required, **carry}.items():
        if name not in tensors:
            if name in optional:
                continue
            raise CheckpointError(f"{path}: tensor {name!r} is missing ({DAMAGED})")
        t = tensors[name]
        if tuple(t.shape) != shape or t.dtype != dtype:
            raise CheckpointError(f"{path}: tensor {name!r} is {_spec(tuple(t.shape), t.dtype)} but "
                                  f"{_builder(name, trainer)} needs {_spec(shape, dtype)} ({DAMAGED})")
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise CheckpointError(f"{path}: tensor {name!r} holds NaN or infinity; the run it was saved from "
                                  "had diverged. Start again from a config with a lower train.lr")
    _check_groups(path, tensors, per_param, "optimizer state", "optim.")
    _check_groups(path, tensors, {0: set(carry)} if carry else {}, "carried state", "carry.")
    given = meta["optim_scalars"]
    for key in given:
        if key not in scalars:
            raise CheckpointError(f"{path}: optim_scalars has {key!r}, which this optimizer "
                                  f"({trainer.config.train.optimizer}) does not keep ({DAMAGED})")
    for key, like in scalars.items():
        index = int(key.split(".", 1)[0])
        if key not in given and any(n in tensors for n in per_param.get(index, ())):
            raise CheckpointError(f"{path}: optim_scalars lacks {key!r} ({DAMAGED})")
        if key in given and (given[key] is None) != (like is None):
            raise _problem(path, f"optim_scalars[{key!r}]", given[key], "null" if like is None else "a number")


def _check_groups(path: Path, tensors: dict, groups: dict[int, set[str]], what: str, prefix: str) -> None:
    """Each group (one parameter's optimizer state; the carried state) is whole or absent."""
    for names in groups.values():
        present = sorted(n for n in names if n in tensors)
        if present and len(present) < len(names):
            missing = sorted(names - set(present))
            raise CheckpointError(f"{path}: the {what} is incomplete: it has {present[0]!r} but lacks "
                                  f"{missing[0]!r} ({DAMAGED})")


def _builder(name: str, trainer) -> str:
    """What the checkpoint's config builds for tensor ``name``, in words."""
    m, tr = trainer.config.model, trainer.config.train
    if name.startswith("model."):
        return (f"the model its config builds ({m.cell}, hidden_size {m.hidden_size}, {m.layers} "
                f"layer{'s' if m.layers > 1 else ''})")
    if name.startswith("optim."):
        return f"the optimizer its config builds ({tr.optimizer})"
    if name.startswith("carry."):
        return f"the carried state (batch_size {tr.batch_size}, hidden_size {m.hidden_size})"
    return "the trainer"


def _spec(shape: tuple, dtype: torch.dtype) -> str:
    return f"{'x'.join(map(str, shape)) or 'a scalar'} {str(dtype).removeprefix('torch.')}"
