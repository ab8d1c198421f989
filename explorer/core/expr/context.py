"""Where and how an expression evaluates: random generator, device and float dtype."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["EvalContext"]


@dataclass(frozen=True)
class EvalContext:
    """Settings for one evaluation (the scan layer makes one per run and reuses it).

    Tensors passed in keep their own device and dtype; these settings apply to what the
    expression creates itself: literals, constructors (``ones``, ``eye``, ``arange``...)
    and random draws.
    """

    generator: torch.Generator | None = None  # random functions draw from it; None: torch's global RNG
    device: torch.device | None = None  # where created tensors live; None: torch's default device
    dtype: torch.dtype = field(default_factory=torch.get_default_dtype)  # float dtype of created tensors

    def __post_init__(self):
        if not (isinstance(self.dtype, torch.dtype) and self.dtype.is_floating_point):
            raise ValueError(f"EvalContext.dtype must be a floating-point torch dtype; got {self.dtype!r}")
        if self.device is not None and not isinstance(self.device, torch.device):
            object.__setattr__(self, "device", torch.device(self.device))
