"""A trained model as a scan program: its step written as expressions, its weights as
non-sequences (numbers, not expressions: :class:`~explorer.core.spec.ArraySpec`), the
probe sequence as its sequence, so the workbench steps through it and shows every h_t.

    spec = model_to_scan(config, trainer.snapshot(), task.probe()[0], step=trainer.step)
    run_spec(spec).outputs["h"]          # (T, H): the lab's Probe.layer_states[0], to 1e-6

Built-in cells are written with PyTorch's fused layout and the lab's formulas, in the
order of operations of :mod:`.cells` (the lab's scan path), one step on x (I,) and h (H,);
the weights are the model's own tensors (``W_ih`` is ``rnn.weight_ih_l0``, gates stacked
along its rows: GRU r, z, n with b_hn inside r * (.), LSTM i, f, g, o). A custom
cell's own expressions are reused as written, on x (1, I) and h (1, H) (they are written
for a batch: here a batch of one), its parameters as non-sequences, its variables as step
variables. Every layer's state is an output (``h`` alone; ``h_l0``, ``h_l1``... stacked),
each new state a step variable (``h_t``) so the next layer and the readout read it; ``y``
is the readout's prediction (class probabilities for a classification task).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ConfigError, FieldProblem
from ..expr import FUNCTIONS
from ..expr.parse import parse
from ..spec import ArraySpec, NonSequenceSpec, OutputSpec, ScanSpec, SequenceSpec, StepVariable
from ..spec.names import name_problem
from .config import ExperimentConfig

__all__ = ["model_to_scan", "rename"]

CELL_TITLES = {"vanilla": "Vanilla RNN", "relu": "ReLU RNN", "gru": "GRU", "lstm": "LSTM", "custom": "Custom cell"}
LAYOUTS = {  # the lab's own formulas (explorer.core.lab.cells), in its order of operations
    "vanilla": "h_t = tanh(x W_ih^T + (b_ih + b_hh) + h_tm1 W_hh^T)",
    "relu": "h_t = relu(x W_ih^T + (b_ih + b_hh) + h_tm1 W_hh^T)",
    "gru": "PyTorch's GRU: gates r, z, n stacked in the rows of W_ih and W_hh, b_hn inside r * (.), "
           "h_t = n + z * (h_tm1 - n)",
    "lstm": "PyTorch's LSTM: gates i, f, g, o stacked in the rows of W_ih and W_hh",
}


def model_to_scan(config: ExperimentConfig, weights: Mapping[str, Any], probe_inputs: Any, *,
                  step: int | None = None, loss: str | None = None) -> ScanSpec:
    """The model of ``config`` with ``weights`` (its ``state_dict``: numpy arrays or tensors)
    as a ScanSpec run over ``probe_inputs`` ((T, I) or the probe's (T, 1, I)).

    ``step``: the training steps the weights are from (said in the title); ``loss``: the
    task's loss (default: the task's own), for the readout's prediction. Raises ConfigError
    on the field ``weights`` when a weight is missing, misshapen or not finite."""
    model, task = config.model, None
    if loss is None:
        from .tasks import make_task

        task = make_task(config.task)
        loss = task.loss
    x = _numbers("probe_inputs", probe_inputs)
    if x.ndim == 3 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 2:
        raise ConfigError(FieldProblem("probe_inputs", f"has shape {x.shape}; give (T, I) or the probe's (T, 1, I)"))
    w = {name: _numbers(f"weights[{name!r}]", value) for name, value in weights.items()}
    build = _Builder(config, w, loss, step)
    if model.cell == "custom":
        build.custom(x)
    else:
        build.builtin(x)
    return build.spec(task)


# -- building ------------------------------------------------------------------------------------------

class _Builder:
    def __init__(self, config: ExperimentConfig, weights: dict[str, np.ndarray], loss: str, step: int | None):
        self.config, self.weights, self.loss, self.step = config, weights, loss, step
        self.hidden, self.layers = config.model.hidden_size, config.model.layers
        self.sequences: list[SequenceSpec] = []
        self.outputs: list[OutputSpec] = []
        self.non_sequences: list[NonSequenceSpec] = []
        self.variables: list[StepVariable] = []
        self.taken: set[str] = set()
        self.steps = 0
        self.kind = "initial" if step == 0 else "trained"  # step None: not known, said as trained

    # -- names and rows ---------------------------------------------------------------------------------
    def name(self, want: str) -> str:
        """``want``, or ``want_`` ... when it is taken or cannot name a row."""
        name = want
        while name in self.taken or name_problem(name, set(FUNCTIONS)):
            name += "_"
        self.taken.add(name)
        return name

    def weight(self, name: str, key: str, what: str, shape: tuple[int, ...]) -> str:
        value = self.weights.get(key)
        if value is None:
            raise ConfigError(FieldProblem("weights", f"has no {key!r}: give the model's whole state_dict "
                                           f"(it has {', '.join(sorted(self.weights)) or 'nothing'})"))
        if value.shape != shape:
            raise ConfigError(FieldProblem("weights", f"{key!r} is {value.shape}, but a {self.config.model.cell} "
                                           f"model of hidden size {self.hidden} has {shape} there"))
        self.non_sequences.append(NonSequenceSpec(name, array=_array(value, f"{self.kind} {what} ({key})")))
        return name

    def state(self, want: str, shape: str) -> str:
        name = self.name(want)
        self.outputs.append(OutputSpec(name, "", f"zeros({shape})"))
        return name

    def variable(self, want: str, expression: str) -> str:
        name = self.name(want)
        self.variables.append(StepVariable(name, expression))
        return name

    def probe(self, x: np.ndarray) -> None:
        self.steps = len(x)
        self.sequences.append(SequenceSpec(self.name("x"), array=_array(x, "probe inputs")))

    # -- the cells ------------------------------------------------------------------------------------------
    def builtin(self, x: np.ndarray) -> None:
        cell, H, I = self.config.model.cell, self.hidden, x.shape[1]
        gates = {"vanilla": 1, "relu": 1, "gru": 3, "lstm": 4}[cell]
        self.probe(x)
        inp, size = "x", I
        for k in range(self.layers):
            s = "" if self.layers == 1 else f"_l{k}"
            W_ih = self.weight(self.name(f"W_ih{s}"), f"rnn.weight_ih_l{k}", "weights", (gates * H, size))
            W_hh = self.weight(self.name(f"W_hh{s}"), f"rnn.weight_hh_l{k}", "weights", (gates * H, H))
            b_ih = self.weight(self.name(f"b_ih{s}"), f"rnn.bias_ih_l{k}", "biases", (gates * H,))
            b_hh = self.weight(self.name(f"b_hh{s}"), f"rnn.bias_hh_l{k}", "biases", (gates * H,))
            h = self.state(f"h{s}", str(H))
            h_tm1 = f"{h}_tm1"

            def part(v: str, j: int) -> str:
                return f"{v}[{j * H}:{(j + 1) * H}]"

            if cell in ("vanilla", "relu"):
                act = "tanh" if cell == "vanilla" else "relu"
                h_t = self.variable(f"h_t{s}", f"{act}({inp} @ {W_ih}.T + ({b_ih} + {b_hh}) + {h_tm1} @ {W_hh}.T)")
            elif cell == "gru":
                gx = self.variable(f"gx{s}", f"{inp} @ {W_ih}.T + {b_ih}")
                gh = self.variable(f"gh{s}", f"{h_tm1} @ {W_hh}.T + {b_hh}")
                r = self.variable(f"r{s}", f"sigmoid({part(gx, 0)} + {part(gh, 0)})")
                z = self.variable(f"z{s}", f"sigmoid({part(gx, 1)} + {part(gh, 1)})")
                n = self.variable(f"n{s}", f"tanh({part(gx, 2)} + {r} * {part(gh, 2)})")
                h_t = self.variable(f"h_t{s}", f"{n} + {z} * ({h_tm1} - {n})")
            else:
                c = self.state(f"c{s}", str(H))
                g4 = self.variable(f"gates{s}", f"{inp} @ {W_ih}.T + ({b_ih} + {b_hh}) + {h_tm1} @ {W_hh}.T")
                i = self.variable(f"i{s}", f"sigmoid({part(g4, 0)})")
                f = self.variable(f"f{s}", f"sigmoid({part(g4, 1)})")
                g = self.variable(f"g{s}", f"tanh({part(g4, 2)})")
                o = self.variable(f"o{s}", f"sigmoid({part(g4, 3)})")
                c_t = self.variable(f"c_t{s}", f"{f} * {c}_tm1 + {i} * {g}")
                h_t = self.variable(f"h_t{s}", f"{o} * tanh({c_t})")
                self._set(c, c_t)
            self._set(h, h_t)
            inp, size = h_t, H
        self.readout(inp)

    def custom(self, x: np.ndarray) -> None:
        from .custom_rnn import param_shape

        cell, H = self.config.model.custom, self.hidden
        self.probe(x[:, None, :])  # (T, 1, I): each step's x is (1, I), a batch of one, as the cell is written for
        # the cell's own names first, so the names this adds (h_t, W_out...) give way to them
        plan = []
        for k in range(self.layers):
            s = "" if self.layers == 1 else f"_l{k}"
            names = {p.name: self.name(f"{p.name}{s}") for p in cell.params}
            names.update({v.name: self.name(f"{v.name}{s}") for v in cell.variables})
            plan.append((k, s, names))
        inp, size = "x", x.shape[1]
        for k, s, names in plan:
            for p in cell.params:
                self.weight(names[p.name], f"rnn.layers.{k}.{p.name}", "parameter", param_shape(p, size, H))
            states = {st: self.state(f"{st}{s}", f"1, {H}") for st in cell.states}
            names["x"] = inp
            names.update({f"{st}_tm1": f"{name}_tm1" for st, name in states.items()})
            for v in cell.variables:
                self.variables.append(StepVariable(names[v.name], rename(v.expression, names)))
            new = {st: self.variable(f"{st}_t{s}", rename(text, names)) for st, text in zip(cell.states, cell.expressions)}
            for st, name in states.items():
                self._set(name, new[st])
            inp, size = new["h"], H
        self.readout(inp)

    def readout(self, h_t: str) -> None:
        O = self.weights.get("readout.weight", np.zeros((0, 0))).shape[0]
        W_out = self.weight(self.name("W_out"), "readout.weight", "readout weights", (O, self.hidden))
        b_out = self.weight(self.name("b_out"), "readout.bias", "readout biases", (O,))
        out = f"{h_t} @ {W_out}.T + {b_out}"
        self.prediction = self.name("y")
        self.outputs.append(OutputSpec(self.prediction, f"softmax({out})" if self.loss == "cross_entropy" else out))
        # the result printed: the predictions (T, O); a custom cell's y is (1, O), its batch of one
        self.result = f"{self.prediction}[:, 0]" if self.config.model.cell == "custom" else self.prediction

    def _set(self, output: str, new: str) -> None:
        self.outputs = [OutputSpec(o.name, new, o.initial, o.taps) if o.name == output else o for o in self.outputs]

    # -- the spec ----------------------------------------------------------------------------------------
    def spec(self, task) -> ScanSpec:
        c, m = self.config, self.config.model
        label = CELL_TITLES.get(m.cell, m.cell)
        size = f"{self.layers}×{self.hidden}" if self.layers > 1 else f"{self.hidden}"
        when = (f"trained {self.step:,} step{'s' if self.step != 1 else ''}" if self.step else
                "untrained (its initial weights)" if self.step == 0 else "")
        title = f"{label} {size}" + (f", {when}" if when else "") + ": its step as a scan"
        states = [o.name for o in self.outputs if o.initial is not None]
        task_name = task.name if task is not None else c.task.name
        layout = (LAYOUTS[m.cell] if m.cell in LAYOUTS else
                  "the custom cell's own expressions, on x (1, I) and h (1, H): a batch of one")
        description = (
            f"The RNN lab's model{' ' + repr(c.title) if c.title else ''} on its probe sequence ({self.steps:,} steps "
            f"of the {task_name} task), one scan step per time step. The step is the cell written as expressions "
            f"({layout}); the {self.kind} weights are non-sequences holding the model's numbers (read-only here), x "
            f"the probe's inputs. {', '.join(states)} {'are' if len(states) > 1 else 'is'} each layer's state at "
            f"each step, the numbers the lab's probe shows; {self.prediction} is the readout's prediction"
            f"{' (class probabilities)' if self.loss == 'cross_entropy' else ''}.")
        source = "RNN lab" + (f": {c.title}" if c.title else "") + (f", weights of step {self.step:,}"
                                                                     if self.step is not None else "")
        return ScanSpec(title=title, description=description, source=source, sequences=tuple(self.sequences),
                        outputs=tuple(self.outputs), non_sequences=tuple(self.non_sequences),
                        step_variables=tuple(self.variables), dtype="float32", result=self.result)


# -- helpers ---------------------------------------------------------------------------------------------

def rename(text: str, names: Mapping[str, str]) -> str:
    """``text`` with every variable named in ``names`` renamed, the rest as written (a
    function called by name and attributes such as ``.T`` are not variables)."""
    tree, source = parse(text)
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in calls and names.get(node.id, node.id) != node.id:
            start = source.offset(node.lineno, node.col_offset)
            spans.append((start, source.offset(node.end_lineno, node.end_col_offset), names[node.id]))
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _numbers(what: str, value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a tensor
        value = value.detach().cpu()
        value = value.float() if value.dtype.is_floating_point and value.element_size() < 4 else value
        value = value.numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise ConfigError(FieldProblem(what, f"holds {array.dtype}, not numbers"))
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ConfigError(FieldProblem(what, "holds NaN or infinite numbers (did the run diverge?): there is "
                                       "nothing to step through; reset and train again"))
    return array


def _array(value: np.ndarray, note: str) -> ArraySpec:
    """Numbers as an ArraySpec: float32 kept float32 (written as the exact doubles of their
    values, so they come back bit for bit), anything else float64."""
    dtype = "float32" if value.dtype == np.float32 else "float64"
    values = value.astype(np.float32 if dtype == "float32" else np.float64).tolist()
    return ArraySpec(_tuples(values), dtype, note)


def _tuples(values):
    if isinstance(values, list):
        return tuple(_tuples(v) for v in values) if values and isinstance(values[0], list) else tuple(values)
    return values
