"""Masked losses, one per task kind: ``LOSSES[task.loss](outputs, targets, mask)``.

``outputs`` (T, B, O) are the readout's raw values (regression values or class logits).
The loss is each sequence's mean over its valid steps (mask 1), averaged over the
sequences: with padding, a batch of B sequences estimates the same number as source 000's
batch-1 ``reduce_mean`` (long sequences do not weigh more), and padding never counts.
Sequences with no valid step in a window (truncated BPTT past their end) are left out.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def per_sequence_mean(err: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    steps = mask.sum(0)  # (B,) valid steps per sequence
    per_seq = (err * mask).sum(0) / steps.clamp(min=1.0)  # (B,)
    return per_seq.sum() / (steps > 0).sum().clamp(min=1)  # ()


def masked_mse(outputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return per_sequence_mean((outputs - targets).pow(2).mean(-1), mask)  # (T, B) -> ()


def masked_cross_entropy(outputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    T, B, C = outputs.shape
    nll = F.cross_entropy(outputs.reshape(T * B, C), targets.reshape(T * B), reduction="none")  # (T*B,)
    return per_sequence_mean(nll.view(T, B), mask)  # ()


LOSSES = {"mse": masked_mse, "cross_entropy": masked_cross_entropy}

# What a person looks at: values for regression, class probabilities for classification.
DISPLAY = {"mse": lambda out: out, "cross_entropy": lambda out: torch.softmax(out, dim=-1)}
