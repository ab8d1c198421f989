"""One step of the Theano-compatible scan: ``fn`` called in Theano's argument order.

:class:`StepRunner` is the step function :mod:`.theano_scan` gives the carry primitive:
it gathers each step's arguments (sequence taps, then output taps from the carried
windows, then non-sequences), calls ``fn``, takes its result apart (:func:`split_result`:
outputs, ``until``, and empty updates in any of Theano's forms), checks what came back
(count, shapes, dtypes) with errors that name the output, and shifts the windows. It also
runs truncated backpropagation (the early steps without a graph) and, once the first step
has shown that ``fn`` returns one plain tensor, switches to a leaner per-step path.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

from .errors import ScanError
from .scan import scan as _primitive

__all__ = ["StepRunner", "as_tensor", "link_cut_inputs", "slice_xs", "split_result", "until"]


class until:  # noqa: N801 - Theano's name
    """Return ``until(condition)`` last from ``fn`` to stop after the step where it holds."""

    def __init__(self, condition: Any):
        self.condition = condition

    def __repr__(self) -> str:
        return f"until({self.condition!r})"


def as_tensor(value: Any, what: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    try:
        return torch.as_tensor(value)
    except Exception as exc:  # noqa: BLE001 - turned into a teaching error
        raise ScanError(f"{what} must be a tensor (or array-like); got {type(value).__name__}.") from exc


def slice_xs(xs: tuple | None, lo: int, hi: int) -> tuple | None:
    return None if xs is None else tuple(x[lo:hi] for x in xs)


class StepRunner:
    """Calls ``fn`` with Theano's argument order and checks what it returns."""

    def __init__(self, fn, seqs, outs, recurrent, statics):
        self.fn, self.outs, self.recurrent, self.statics = fn, outs, recurrent, statics
        # The carry is every window laid end to end: output o's window starts at starts[o].
        starts = [sum(r.plan.window for r in recurrent[:j]) for j in range(len(recurrent))]
        self.reads = [start + p for start, o in zip(starts, recurrent) for p in o.plan.positions]
        self.shift = [(start + 1, start + o.plan.window, o.index) for start, o in zip(starts, recurrent)]
        self.n_expected = len(outs) if outs else None
        self.shapes: list | None = None  # per output, fixed by the first step
        self.arg_names = self._arg_names(seqs)
        self.checked_call = False
        self.fast = None  # the specialised step, once the first step has shown it applies
        self.cond: Any = None  # the until condition of the latest step, if any
        # dtype/device for the outputs of a zero-step scan
        self.like = next((v for v in [*(d for d, _ in seqs), *(o.window[-1] for o in recurrent), *statics]
                          if isinstance(v, torch.Tensor)), None)
        self.steps = 0

    def _arg_names(self, seqs) -> list[str]:
        names = []
        for i, (_, plan) in enumerate(seqs):
            names += [f"sequences[{i}][t{k:+d}]" if k else f"sequences[{i}][t]" for k in plan.taps]
        for o in self.recurrent:
            names += [f"outputs_info[{o.index}][t{k:+d}]" for k in o.plan.taps]
        names += [f"non_sequences[{i}]" for i in range(len(self.statics))]
        return names

    def __call__(self, init, xs, n):
        self.steps = 0
        _, ys = _primitive(self._dispatch, init, xs, length=None if xs is not None else n,
                           stop=self.stop)
        return ys

    def _dispatch(self, carry, x):
        return (self.fast or self.step)(carry, x)

    def truncated(self, init, xs, n, k):
        """Run the first ``n - k`` steps without a graph, then the last ``k`` with one.

        With ``until`` the number of steps is known only after running, so a first pass
        without a graph (and with the random state restored afterwards) counts them.
        """
        if self._returns_until(init, xs):
            with torch.no_grad(), torch.random.fork_rng(devices=_cuda_devices(init, xs)):
                self(init, xs, n)
            n = self.steps
            if n <= k:
                return self(init, slice_xs(xs, 0, n), n)
        self.steps = 0
        with torch.no_grad():
            carry, early = _primitive(self._dispatch, init, slice_xs(xs, 0, n - k),
                                      length=None if xs is not None else n - k)
        _, late = _primitive(self._dispatch, carry, slice_xs(xs, n - k, n),
                             length=None if xs is not None else k, stop=self.stop)
        if early is None:
            return late
        return tuple(torch.cat([a, b]) for a, b in zip(early, late))

    def _returns_until(self, init, xs) -> bool:
        """Call fn once (no graph, random state restored) to see whether it uses until."""
        with torch.no_grad(), torch.random.fork_rng(devices=_cuda_devices(init, xs)):
            self.step(init, None if xs is None else tuple(x[0] for x in xs))
        return self.cond is not None

    def stop(self, carry, y) -> bool:
        cond = self.cond
        if cond is None:
            return False
        return bool(cond.item() if isinstance(cond, torch.Tensor) else cond)

    def step(self, carry, x):
        """The primitive's step: Theano's arguments in, checked outputs and windows out.

        The first call checks everything; later calls take :meth:`_fast_step`, a closure
        over locals (at batch 1 the per-step Python is a visible share of the time).
        """
        self.steps += 1
        args = [*x] if x is not None else []
        args += [carry[i] for i in self.reads]
        args += self.statics
        if not self.checked_call:
            self._check_call(args)
        result = self.fn(*args)
        outs = self._split(result)
        new_carry = ()
        for lo, hi, i in self.shift:  # drop each window's oldest value, append the new one
            new_carry += carry[lo:hi] + (outs[i],)
        if self.fast is None and type(result) is torch.Tensor and self.shift in ([], [(1, 1, 0)]):
            self.fast = self._fast_step()
        return new_carry, tuple(outs)

    def _fast_step(self):
        """fn returns one tensor, fed back with tap -1 or not at all: the common case."""
        fn, statics, (shape, dtype) = self.fn, self.statics, self.shapes[0]
        fed_back = bool(self.shift)
        runner = self

        def step(carry, x):
            runner.steps += 1
            out = fn(*x, *carry, *statics) if x is not None else fn(*carry, *statics)
            if type(out) is not torch.Tensor or out.shape != shape or out.dtype != dtype:
                runner._split(out)  # the slow path explains (or takes until/lists)
                raise ScanError("fn changed what it returns between steps; return the same "
                                "kind of value (one tensor) at every step.")
            return ((out,) if fed_back else ()), (out,)

        return step

    def _check_call(self, args):
        self.checked_call = True
        try:
            inspect.signature(self.fn).bind(*args)
        except TypeError:
            order = ", ".join(self.arg_names) or "(nothing)"
            raise ScanError(
                f"fn cannot take the {len(args)} arguments scan passes it. fn receives, in "
                f"order: {order}. Revise fn's parameters to match."
            ) from None
        except ValueError:  # builtins without a signature: let the call speak
            pass

    def _split(self, result):
        self.cond = None
        if isinstance(result, torch.Tensor) and self.shapes is not None and len(self.shapes) == 1:
            if result.shape != self.shapes[0][0] or result.dtype != self.shapes[0][1]:
                self._check_shapes([result])
            return [result]
        cond, result = split_result(result)
        self.cond = cond
        outs = [r if isinstance(r, torch.Tensor) else as_tensor(r, "fn's result") for r in result]
        if self.n_expected is None:
            self.n_expected = len(outs)
        if len(outs) != self.n_expected:
            raise ScanError(
                f"fn returned {len(outs)} output(s) but outputs_info describes "
                f"{self.n_expected}. Return one value per entry of outputs_info (use None in "
                "outputs_info for outputs that are not fed back)."
            )
        self._check_shapes(outs)
        return outs

    def _check_shapes(self, outs):
        if self.shapes is None:
            self.shapes = [(o.shape, o.dtype) for o in outs]
            for o in self.recurrent:
                state, new = o.window[-1], outs[o.index]  # the first carry's newest value
                if tuple(new.shape) != tuple(state.shape):
                    raise ScanError(
                        f"output {o.index} returned shape {tuple(new.shape)} but its initial "
                        f"value has shape {tuple(state.shape)}; each step must keep the shape "
                        "of the state. Check the initial value in outputs_info."
                    )
                if new.dtype != state.dtype:
                    raise ScanError(
                        f"output {o.index} returned dtype {new.dtype} but its initial value is "
                        f"{state.dtype}; make them agree (create the initial value with "
                        f"dtype={new.dtype}, or cast the result)."
                    )
            return
        for i, (o, (shape, dtype)) in enumerate(zip(outs, self.shapes)):
            if o.shape != shape or o.dtype != dtype:
                raise ScanError(
                    f"output {i} changed from shape {tuple(shape)} ({dtype}) at the first step to "
                    f"{tuple(o.shape)} ({o.dtype}); every step must return the same shape and dtype."
                )

    def finish(self, ys, n, return_list=False):
        if ys is None:  # zero steps: recurrent outputs keep their state's shape
            result = []
            for o in self.outs:
                if o.window is not None:
                    result.append(o.window[-1].new_empty((0, *o.window[-1].shape)))
                elif self.like is not None:
                    result.append(self.like.new_empty((0,)))
                else:
                    result.append(torch.empty(0))
        else:
            result = list(ys)
        if len(result) == 1 and not return_list:
            return result[0]
        return result


def split_result(result) -> tuple[Any, list]:
    """``(until condition or None, outputs)`` from what ``fn`` returned, in any of Theano's forms.

    ``outputs``, ``[outputs]``, ``(outputs, until(c))``, ``(v, s, until(c))``,
    ``(outputs, updates)``, ``(updates, outputs)``, ``(outputs, updates, until(c))``; updates (a
    dict, or Theano's list of ``(variable, new value)`` pairs) must be empty: there are no shared
    variables to update.
    """
    if isinstance(result, (until, dict)):
        result = [result]
    elif not isinstance(result, (list, tuple)):
        return None, [result]
    parts = list(result)
    cond = parts.pop().condition if parts and isinstance(parts[-1], until) else None
    kept = []
    for j, part in enumerate(parts):
        if isinstance(part, dict) or (j == 1 and len(parts) == 2 and _is_update_pairs(part)):
            if part:
                raise ScanError(
                    "fn returned updates; shared-variable updates are not supported. "
                    "Make the updated value a recurrent output (give it an initial value in "
                    "outputs_info and return its new value), or return an empty dict."
                )
        elif isinstance(part, until):
            raise ScanError("fn returned until(...) before its outputs; return it last: (outputs, until(c)).")
        else:
            kept.append(part)
    if len(kept) == 1 and isinstance(kept[0], (list, tuple)):  # ([outputs], until(c)), ([outputs], {})
        kept = list(kept[0])
    return cond, kept


def _is_update_pairs(part) -> bool:
    """Theano's other spelling of updates: a list of ``(variable, new value)`` pairs."""
    return isinstance(part, list) and all(
        isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], torch.Tensor) for p in part
    )


class _ZeroGradFor(torch.autograd.Function):
    """The identity on ``y`` that also gives each of ``cut`` a zero gradient (not ``None``)."""

    @staticmethod
    def forward(ctx, y, *cut):
        ctx.like = [(c.shape, c.dtype, c.device) for c in cut]
        return y.clone()  # not a view: the caller may write into the result in place

    @staticmethod
    def backward(ctx, grad, *_):
        return (grad, *(torch.zeros(shape, dtype=dtype, device=device) for shape, dtype, device in ctx.like))


def link_cut_inputs(ys, inputs):
    """Truncation ran the early steps without a graph, so the initial values dropped out of it.

    PyTensor's gradient for them is zeros; link them to every output so that ``backward()``
    leaves zeros in their ``.grad`` (and ``autograd.grad`` returns zeros) instead of ``None``.
    """
    cut = [v for v in inputs if isinstance(v, torch.Tensor) and v.requires_grad]
    if ys is None or not cut:
        return ys
    return tuple(_ZeroGradFor.apply(y, *cut) for y in ys)


def _cuda_devices(*trees) -> list[int]:
    devices = set()

    def visit(t):
        if isinstance(t, torch.Tensor):
            if t.is_cuda:
                devices.add(t.device.index or 0)
        elif isinstance(t, (list, tuple)):
            for v in t:
                visit(v)

    for tree in trees:
        visit(tree)
    return sorted(devices)
