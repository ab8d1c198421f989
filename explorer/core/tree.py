"""Tiny pytree helpers: carries, inputs and outputs may be tensors or tuples/lists/dicts.

Leaves are anything that is not a tuple, list or dict (tensors, numbers, None).
"""

from __future__ import annotations

from typing import Any, Callable


def leaves(tree: Any) -> list:
    """Leaves of ``tree`` in a fixed order (dicts by insertion order)."""
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in leaves(item)]
    if isinstance(tree, dict):
        return [leaf for item in tree.values() for leaf in leaves(item)]
    return [tree]


def tree_map(fn: Callable, tree: Any, *rest: Any) -> Any:
    """Apply ``fn`` leaf-wise over ``tree`` and trees of the same structure in ``rest``."""
    if isinstance(tree, tuple):
        return tuple(tree_map(fn, t, *(r[i] for r in rest)) for i, t in enumerate(tree))
    if isinstance(tree, list):
        return [tree_map(fn, t, *(r[i] for r in rest)) for i, t in enumerate(tree)]
    if isinstance(tree, dict):
        return {k: tree_map(fn, t, *(r[k] for r in rest)) for k, t in tree.items()}
    return fn(tree, *rest)


def structure(tree: Any) -> Any:
    """A comparable description of the tree's shape (containers and keys, not values)."""
    if isinstance(tree, (tuple, list)):
        return (type(tree).__name__, tuple(structure(t) for t in tree))
    if isinstance(tree, dict):
        return ("dict", tuple((k, structure(t)) for k, t in tree.items()))
    return "*"


def paths(tree: Any, prefix: str = "") -> list[str]:
    """Readable paths of the leaves (``[0]['h']``), in the order of :func:`leaves`."""
    if isinstance(tree, (tuple, list)):
        return [p for i, t in enumerate(tree) for p in paths(t, f"{prefix}[{i}]")]
    if isinstance(tree, dict):
        return [p for k, t in tree.items() for p in paths(t, f"{prefix}[{k!r}]")]
    return [prefix or "(root)"]
