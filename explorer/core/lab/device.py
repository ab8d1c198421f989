"""Where training runs: ``auto`` = CUDA when present, else CPU; and the torch thread count."""

from __future__ import annotations

import os

import torch

from ..errors import ConfigError, FieldProblem


def available() -> str:
    """The devices this machine has, in words: ``cpu`` and each ``cuda:N`` with its name."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names += [f"cuda:{i} ({torch.cuda.get_device_name(i)})" for i in range(torch.cuda.device_count())]
    return ", ".join(names)


def resolve_device(name: str, field: str = "train.device") -> torch.device:
    """``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` -> a device that exists, or a ConfigError
    naming ``field`` and the devices there are."""
    here = f"available here: {available()}"
    if not isinstance(name, str):
        raise ConfigError(FieldProblem(field, f"is {name!r}; use auto, cpu, cuda or cuda:N ({here})"))
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ConfigError(FieldProblem(field, f"is {name!r}; use auto, cpu, cuda or cuda:N ({here})")) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(FieldProblem(field, f"is {name} but no CUDA GPU is available here; use auto or cpu "
                                           f"({here})"))
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(FieldProblem(field, f"is {name} but there are only "
                                           f"{torch.cuda.device_count()} GPUs ({here})"))
    elif device.type != "cpu" or device.index not in (None, 0):
        raise ConfigError(FieldProblem(field, f"is {name!r}; use auto, cpu, cuda or cuda:N ({here})"))
    return device


def cores() -> int:
    """CPU cores this process may run on (its affinity mask, else the machine's count)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def set_threads(threads: int) -> str | None:
    """Intra-op threads (process-wide in torch); 0 leaves torch's default. More threads than
    cores only slow torch down, so a larger number is capped; returns the message saying so."""
    note = None
    if threads > cores():
        note = (f"train.threads is {threads} but this machine has {cores()} core{'s' if cores() != 1 else ''}; "
                f"using {cores()}")
        threads = cores()
    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return note


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() != 1 else ''})"
