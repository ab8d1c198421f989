"""Where a scan's outputs stop being numbers: the first step at which each output holds a
NaN or an infinity, so the window can warn instead of drawing an empty plot."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class NonFinite:
    output: str  # the output's name
    step: int  # the first step (0-based, in the order computed) with a NaN or an infinity
    kind: str  # "NaN", "Inf" or "NaN and Inf" (at that step)
    steps: int  # how many steps hold a non-finite value

    def __str__(self) -> str:
        return (f"output '{self.output}' is {self.kind} from step {self.step}"
                f" ({self.steps:,} step{'s' if self.steps != 1 else ''} not finite)")


def nonfinite_outputs(outputs: dict[str, torch.Tensor]) -> list[NonFinite]:
    """One entry per output (shape (steps, ...)) that holds a NaN or an infinity."""
    found = []
    for name, value in outputs.items():
        if not torch.is_floating_point(value) and not torch.is_complex(value):
            continue
        bad = ~torch.isfinite(value.detach()).reshape(len(value), -1).all(dim=1)  # (steps,)
        if not bool(bad.any()):
            continue
        first = int(torch.nonzero(bad)[0])
        row = value[first].detach()
        kinds = [k for k, test in (("NaN", torch.isnan), ("Inf", torch.isinf)) if bool(test(row).any())]
        found.append(NonFinite(name, first, " and ".join(kinds), int(bad.sum())))
    return found
