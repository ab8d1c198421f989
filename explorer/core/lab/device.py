"""Where training runs: ``auto`` = CUDA when present, else CPU; and the torch thread count."""

from __future__ import annotations

import torch

from ..errors import ConfigError, FieldProblem


def resolve_device(name: str) -> torch.device:
    """``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` -> a device that exists, or a ConfigError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ConfigError(FieldProblem("train.device", f"is {name!r}; use auto, cpu, cuda or cuda:N")) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(FieldProblem("train.device", "is cuda but no CUDA GPU is available here; "
                                           "use auto or cpu"))
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(FieldProblem("train.device", f"is {name} but there are only "
                                           f"{torch.cuda.device_count()} GPUs"))
    elif device.type != "cpu":
        raise ConfigError(FieldProblem("train.device", f"is {name!r}; use auto, cpu, cuda or cuda:N"))
    return device


def set_threads(threads: int) -> None:
    """Intra-op threads (process-wide in torch); 0 leaves torch's default."""
    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() != 1 else ''})"
