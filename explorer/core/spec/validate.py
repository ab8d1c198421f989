"""Static checks of a ScanSpec: names, taps, and every expression parsed in its scope.

Each problem is a :class:`FieldProblem` on the field it belongs to (``outputs[1].taps``),
and all of them are reported at once. Checks that need values (rows of an initial value,
shapes) happen in :func:`explorer.core.spec.run.check`, after these pass.
"""

from __future__ import annotations

from ..errors import FieldProblem
from ..expr import FUNCTIONS, ExpressionError, compile_expression
from .model import ScanSpec
from .names import name_problem, step_scope, unknown_name_hint, until_scope

DTYPES = ("float32", "float64")
MAX_SEED = 2**63 - 1  # torch's generator takes a signed 64-bit seed


def validate(spec: ScanSpec) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    problems += _names(spec)
    problems += _structure(spec)
    problems += _arrays(spec)
    for field, text, scope in expression_fields(spec):
        if not text or not text.strip():
            problems.append(FieldProblem(field, "is empty; write an expression"))
            continue
        try:
            compile_expression(text, scope, unknown_name_hint=lambda n: unknown_name_hint(spec, n))
        except ExpressionError as exc:
            problems.append(FieldProblem(field, exc.message, exc.column))
    return problems


def expression_fields(spec: ScanSpec):
    """(field path, text, names it may read) for every expression in the spec (a row whose
    numbers are an ``array`` has none)."""
    statics = [n.name for n in spec.non_sequences]
    for i, n in enumerate(spec.non_sequences):
        if n.array is None:
            yield f"non_sequences[{i}].value", n.value, set(statics[:i])
    for i, s in enumerate(spec.sequences):
        if s.array is None:
            yield f"sequences[{i}].data", s.data, set(statics)
    for i, o in enumerate(spec.outputs):
        if o.initial is not None:
            yield f"outputs[{i}].initial", o.initial, set(statics)
    for i, v in enumerate(spec.step_variables):
        yield f"step_variables[{i}].expression", v.expression, step_scope(spec, upto_variable=i)
    for i, o in enumerate(spec.outputs):
        yield f"outputs[{i}].expression", o.expression, step_scope(spec)
    if spec.until is not None:
        yield "until", spec.until, until_scope(spec)
    if spec.result is not None:
        yield "result", spec.result, {o.name for o in spec.outputs} | set(statics)


def _names(spec: ScanSpec) -> list[FieldProblem]:
    problems, seen = [], {}
    reserved = set(FUNCTIONS)
    rows = [("sequences", spec.sequences), ("outputs", spec.outputs),
            ("non_sequences", spec.non_sequences), ("step_variables", spec.step_variables)]
    for key, items in rows:
        for i, item in enumerate(items):
            field = f"{key}[{i}].name"
            why = name_problem(item.name, reserved)
            if why:
                problems.append(FieldProblem(field, why))
            elif item.name in seen:
                problems.append(FieldProblem(field, f"'{item.name}' is already the name of {seen[item.name]}; names must be unique"))
            else:
                seen[item.name] = f"{key}[{i}]"
    return problems


def _arrays(spec: ScanSpec) -> list[FieldProblem]:
    """Rows whose numbers are an array: no expression beside it, a known dtype, a list. Cheap
    (the GUI thread runs it on every edit): the numbers themselves were checked by the decoder,
    and are read again when the data is evaluated (:mod:`.run`)."""
    problems = []
    for key, text_field, items in (("non_sequences", "value", spec.non_sequences),
                                   ("sequences", "data", spec.sequences)):
        for i, item in enumerate(items):
            array, text = item.array, getattr(item, text_field)
            if array is None:
                continue
            if text and text.strip():
                problems.append(FieldProblem(f"{key}[{i}].{text_field}", f"is given and so is an array: give one "
                                             f"or the other (clear {text_field} to use the array's numbers)"))
            if array.dtype not in DTYPES:
                problems.append(FieldProblem(f"{key}[{i}].array.dtype",
                                             f"'{array.dtype}' is not one of {', '.join(DTYPES)}"))
            if not isinstance(array.values, (list, tuple)):
                problems.append(FieldProblem(f"{key}[{i}].array.values", "must be a list of numbers (lists of "
                                             "lists for more dimensions)"))
    return problems


def _structure(spec: ScanSpec) -> list[FieldProblem]:
    problems = []
    if not spec.outputs:
        problems.append(FieldProblem("outputs", "add at least one output: the value each step computes"))
    for i, s in enumerate(spec.sequences):
        if len(set(s.taps)) != len(s.taps):
            problems.append(FieldProblem(f"sequences[{i}].taps", f"{list(s.taps)} repeats a tap; list each once"))
    for i, o in enumerate(spec.outputs):
        field = f"outputs[{i}].taps"
        if o.initial is None:
            if tuple(o.taps) != (-1,):
                problems.append(FieldProblem(field, "taps need an initial value; give one, or clear the taps"))
            continue
        if any(k >= 0 for k in o.taps):
            problems.append(FieldProblem(field, f"{list(o.taps)}: output taps must be negative (-1 is the previous step)"))
        elif len(set(o.taps)) != len(o.taps):
            problems.append(FieldProblem(field, f"{list(o.taps)} repeats a tap; list each once"))
    if spec.n_steps is None and not spec.sequences:
        problems.append(FieldProblem("n_steps", "with no sequences, say how many steps to run"))
    if spec.n_steps is not None and spec.n_steps < 0:
        problems.append(FieldProblem("n_steps", f"must be 0 or more, not {spec.n_steps}; use go_backwards to reverse"))
    if spec.n_steps is not None and spec.n_steps > 1_000_000:
        problems.append(FieldProblem("n_steps", "at most 1,000,000 steps in the workbench"))
    if not 0 <= spec.seed <= MAX_SEED:
        problems.append(FieldProblem("seed", f"is {spec.seed}; a seed is a whole number from 0 to {MAX_SEED:,}"))
    if spec.dtype not in DTYPES:
        problems.append(FieldProblem("dtype", f"'{spec.dtype}' is not one of {', '.join(DTYPES)}"))
    return problems
