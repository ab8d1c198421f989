"""Scan Explorer: build, run, train and see recurrent computation.

``from explorer import scan, until, evaluate`` gives the Theano-compatible scan and the
expression evaluator; ``from explorer import theano`` gives ``theano.scan`` returning
``(outputs, updates)`` as Theano's does. They are imported lazily so that ``import explorer`` (and the app's
start-up, which shows its window before loading torch) stays cheap.
"""

__version__ = "0.1.0"

_LAZY = {
    "scan": ("explorer.core.theano_scan", "scan"),
    "until": ("explorer.core.theano_scan", "until"),
    "evaluate": ("explorer.core.expr", "evaluate"),
    "ScanSpec": ("explorer.core.spec", "ScanSpec"),
}

__all__ = ["scan", "until", "evaluate", "ScanSpec", "__version__"]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'explorer' has no attribute {name!r}")
