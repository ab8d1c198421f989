"""The exported script's model block for a custom cell: its step as a torch function of its own
expressions (see :mod:`.export`). The expression language's elementwise functions that are
torch's own (``TORCH_FUNCTIONS``) and operators read the same in plain torch; a cell using any
other function is refused, naming the expression and the column."""

from __future__ import annotations

import ast
import keyword
import pprint

from ..errors import ConfigError, FieldProblem
from .config import ExperimentConfig

CUSTOM_MODEL = '''

# -- the model: a custom cell, as written in Scan Explorer, stacked, and a linear readout -----------
@@IMPORTS@@
STATES = @@STATES@@  # the cell's state variables
# each layer's parameters, in the order they are drawn: (name, shape, init, scale)
LAYER_PARAMS = @@LAYER_PARAMS@@


@@STEP@@


def init_param(shape, init, scale, gen):
    """uniform: in [-scale, scale]; normal: sigma = scale; orthogonal: gain = scale (or 1)."""
    t = torch.empty(shape)
    if init == "uniform":
        t.uniform_(-scale, scale, generator=gen)
    elif init == "normal":
        t.normal_(0.0, scale, generator=gen)
    elif init == "zeros":
        t.zero_()
    elif init == "identity":
        t.copy_(torch.eye(*shape))
    else:
        nn.init.orthogonal_(t, gain=scale or 1.0, generator=gen)
    return t


class CustomRNN(nn.Module):
    def __init__(self, gen):
        super().__init__()
        self.layers = nn.ModuleList()
        for specs in LAYER_PARAMS:
            layer = nn.Module()
            for name, shape, init, scale in specs:
                layer.register_parameter(name, nn.Parameter(init_param(shape, init, scale, gen)))
            self.layers.append(layer)

    def forward(self, x, state=None):
        """x (T, B, I) -> (the top layer's h_t (T, B, H), every layer's final state)."""
        T, B, _ = x.shape
        finals = []
        for k, layer in enumerate(self.layers):
            params = list(layer.parameters())  # in their listed order: cell_step's arguments
            s = state[k] if state is not None else tuple(x.new_zeros(B, MODEL["hidden_size"]) for _ in STATES)
            hs = []
            for t in range(T):
                s = cell_step(x[t], *s, *params)
                s = s if isinstance(s, tuple) else (s,)
                hs.append(s[0])  # h feeds the readout and the next layer
            x = torch.stack(hs)  # (T, B, H)
            finals.append(s)
        return x, tuple(finals)


class Model(nn.Module):
    def __init__(self, gen):
        super().__init__()
        self.rnn = CustomRNN(gen)  # its parameters draw from gen first, in their listed order
        self.readout = nn.Linear(MODEL["hidden_size"], OUTPUT_SIZE)  # (H,) -> (O,) at every step

    def forward(self, x, state=None):
        hs, final = self.rnn(x, state)  # (T, B, H); per layer, a tuple of its states
        return self.readout(hs), final  # (T, B, O)


def build_model(seed):
    """The cell's parameters by their own inits, then the readout uniform in [-init_scale,
    init_scale] with a zero bias (init_scale 0 keeps torch's default init)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # torch's default init (the readout's) draws from the global generator
        gen = torch.Generator().manual_seed(seed)
        model = Model(gen)
        scale = MODEL["init_scale"]
        with torch.no_grad():
            if scale > 0:
                model.readout.weight.uniform_(-scale, scale, generator=gen)
                model.readout.bias.zero_()
    return model
'''


# the expression language's one-argument elementwise functions that are torch's own (functions.py
# registers them as torch.<name>): a custom cell using only these exports as plain torch code
TORCH_FUNCTIONS = ("tanh", "sigmoid", "relu", "exp", "log", "log1p", "sqrt", "sin", "cos", "floor", "ceil",
                   "round", "abs", "sign", "square")
_SCRIPT_NAMES = {"torch", "nn", "np", "F", "math", "argparse", "x", "MODEL", "TASK", "TRAIN", "CONFIG", "cell_step"}


def custom_model(config: ExperimentConfig) -> str:
    """The custom cell's model block: its step as a Python function of torch tensors, its
    parameters' shapes per layer. ConfigError naming the expression for what plain torch does
    not spell the same (functions beyond TORCH_FUNCTIONS, attributes other than ``.T``)."""
    from .custom_rnn import param_shape  # torch: only when a custom cell is exported
    from .tasks import make_task

    cell, m = config.model.custom, config.model
    used: set[str] = set()
    texts = [(f"model.custom.variables[{i}].expression", v.expression) for i, v in enumerate(cell.variables)]
    texts += [(f"model.custom.expressions[{i}]", e) for i, e in enumerate(cell.expressions)]
    for path, text in texts:
        used |= _torch_calls(path, text)
    names = [p.name for p in cell.params] + [v.name for v in cell.variables]
    clash = [n for n in names if n in used or keyword.iskeyword(n) or n in _SCRIPT_NAMES]
    if clash:
        raise ConfigError(FieldProblem("model.custom", f"the name {clash[0]!r} would clash with a function or "
                                       "keyword in the exported script; rename it"))
    input_size = make_task(config.task).input_size
    layers = []
    for k in range(m.layers):
        size = input_size if k == 0 else m.hidden_size
        layers.append([(p.name, param_shape(p, size, m.hidden_size), p.init, p.scale) for p in cell.params])
    states = [f"{s}_tm1" for s in cell.states]
    shapes = ", ".join(f"{s} (B, H)" for s in states)
    lines = [f"def cell_step({', '.join(['x', *states, *(p.name for p in cell.params)])}):",
             f"    {QUOTES}One step of the cell, as written in the app: x (B, I), {shapes} and its parameters "
             f"-> the new {' and '.join(cell.states)} (B, H).{QUOTES}"]
    lines += [f"    {v.name} = {v.expression.strip()}" for v in cell.variables]
    lines += [f"    {name} = {expression.strip()}" for name, expression in zip(cell.states, cell.expressions)]
    lines.append(f"    return {', '.join(cell.states)}")
    imports = f"from torch import {', '.join(sorted(used))}  # the functions the cell uses" if used else \
        "# the cell uses no functions, only operators"
    return (CUSTOM_MODEL.replace("@@IMPORTS@@", imports).replace("@@STATES@@", repr(tuple(cell.states)))
            .replace("@@LAYER_PARAMS@@", pprint.pformat(layers, width=100)).replace("@@STEP@@", "\n".join(lines)))


QUOTES = '"' * 3


def _torch_calls(path: str, text: str) -> set[str]:
    """The functions ``text`` calls, all of them in TORCH_FUNCTIONS (else ConfigError on ``path``)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConfigError(FieldProblem(path, f"cannot be exported: {exc.msg}", exc.offset)) from None
    calls = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name not in TORCH_FUNCTIONS:
                shown = name or ast.unparse(node.func)
                raise ConfigError(FieldProblem(path, f"{shown}(...) has no plain-torch twin in the exported script "
                                               f"(it exports cells using {', '.join(TORCH_FUNCTIONS)}); "
                                               "write it with those and operators", node.col_offset + 1))
            calls.add(name)
        elif isinstance(node, ast.Attribute) and node.attr != "T":
            raise ConfigError(FieldProblem(path, f".{node.attr} cannot be exported (only .T)", node.col_offset + 1))
    return calls
