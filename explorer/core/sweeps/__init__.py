"""Sweeps on Optuna (Qt-free): a definition, its study, worker processes and a launcher.

    definition = load_definition("seed000_hidden_size")     # a preset, .json or .toml
    launcher = SweepLauncher(definition, RunStore(workspace), workers=2)
    launcher.start(); launcher.wait(); launcher.results()

Optuna schedules, samples, prunes and stores; each trial is one run in the RunStore.
"""

from .definition import OBJECTIVES, SAMPLERS, SweepDefinition, load_definition
from .launcher import SweepLauncher, SweepStatus
from .space import SweptField
from .study import TrialResult, default_storage

__all__ = [
           "OBJECTIVES",
           "SAMPLERS",
           "SweepDefinition",
           "SweepLauncher",
           "SweepStatus",
           "SweptField",
           "TrialResult",
           "default_storage",
           "load_definition",
]
