"""``scan(..., strict=True)``: ``fn`` may use only the tensors scan passes it.

Theano's ``strict`` refused a shared variable that ``fn`` used without its being given in
``non_sequences``. Torch has no graph to inspect before running, so this looks at what ``fn``
can reach besides its arguments, before the first step:

- its closure cells and default values;
- the globals its code names (nested functions and lambdas included);
- for a bound method, the object it is bound to (its attributes, one level deep);
- for a ``functools.partial``, the bound arguments and the wrapped function;
- the plain Python functions it reaches by those routes, recursively (a few levels).

A tensor that requires grad there (torch's counterpart of a shared variable), or the
parameters of an ``nn.Module`` there, not among the tensors passed to scan, is refused with
the name ``fn`` reads it by. Constant tensors are allowed, as Theano allowed constants.
"""

from __future__ import annotations

import functools
import types
from typing import Any, Iterator

import torch

from .errors import ScanError

__all__ = ["check_strict"]

_DEPTH = 4  # how many calls deep the search follows plain Python functions


def check_strict(fn: Any, passed: list) -> None:
    """Raise :class:`ScanError` naming the first outside tensor ``fn`` reads that requires grad."""
    allowed = {id(v) for v in passed if isinstance(v, torch.Tensor)}
    seen: set[int] = set()
    for name, value, via in _reachable(fn, None, 0, seen):
        for path, tensor in _tensors(name, value):
            if tensor.requires_grad and id(tensor) not in allowed:
                through = f", via {via}" if via else ""
                raise ScanError(
                    f"strict=True: fn reads {path} (a tensor that requires grad{through}) but it is not "
                    "passed to scan; pass it in non_sequences and give fn a parameter for it "
                    "(or leave strict off)."
                )


def _reachable(fn: Any, via: str | None, depth: int, seen: set[int]) -> Iterator[tuple[str, Any, str | None]]:
    """``(name, value, via)`` for every value ``fn`` can read besides its arguments."""
    if id(fn) in seen or depth > _DEPTH:
        return
    seen.add(id(fn))
    if isinstance(fn, functools.partial):
        for i, arg in enumerate(fn.args):
            yield f"partial argument {i}", arg, via
        for key, arg in (fn.keywords or {}).items():
            yield key, arg, via
        yield from _reachable(fn.func, via, depth, seen)
        return
    if isinstance(fn, types.MethodType):
        yield "self", fn.__self__, via
        fn = fn.__func__
    elif isinstance(fn, torch.nn.Module):
        yield type(fn).__name__, fn, via
        return
    if not isinstance(fn, types.FunctionType):
        return  # builtins, C functions, callable objects without Python code: nothing to read
    here = via if via is not None else (None if depth == 0 else fn.__qualname__)
    code = fn.__code__
    values: list[tuple[str, Any]] = list(zip(code.co_freevars, [_cell(c) for c in fn.__closure__ or ()]))
    values += [(f"the default of {fn.__qualname__}", d) for d in fn.__defaults__ or ()]
    values += [(k, d) for k, d in (fn.__kwdefaults__ or {}).items()]
    values += [(g, fn.__globals__[g]) for g in sorted(_names(code)) if g in fn.__globals__]
    for name, value in values:
        yield name, value, here
        if isinstance(value, (types.FunctionType, types.MethodType, functools.partial)):
            yield from _reachable(value, _join(here, name), depth + 1, seen)


def _join(via: str | None, name: str) -> str:
    return name if via is None else f"{via} -> {name}"


def _cell(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # a cell not yet filled
        return None


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _tensors(name: str, value: Any, depth: int = 0) -> Iterator[tuple[str, torch.Tensor]]:
    """Tensors in ``value``: itself, a module's parameters, containers and attributes one level deep."""
    if isinstance(value, torch.Tensor):
        yield name, value
    elif isinstance(value, torch.nn.Module):
        for pname, p in value.named_parameters():
            yield f"{name}.{pname}", p
    elif depth >= 2 or isinstance(value, (str, bytes, type, types.ModuleType, types.FunctionType)):
        return
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _tensors(f"{name}[{i}]", v, depth + 1)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _tensors(f"{name}[{k!r}]", v, depth + 1)
    elif name == "self" and hasattr(value, "__dict__"):
        for k, v in vars(value).items():
            yield from _tensors(f"self.{k}", v, depth + 1)
