"""The RNN lab's core (Qt-free): tasks, models on the scan engine, training as a generator.

    from explorer.core.lab import ExperimentConfig, train
    for report in train(ExperimentConfig()):
        if report.full:
            print(report.step, report.loss)
"""

from .config import ExperimentConfig, ModelConfig, TaskConfig, TrainConfig
from .control import TrainControl
from .reports import Probe, StepReport

__all__ = ["ExperimentConfig", "TaskConfig", "ModelConfig", "TrainConfig", "TrainControl", "StepReport",
           "Probe", "Trainer", "train"]


def __getattr__(name):  # training pulls in torch: import it on first use only
    if name in ("Trainer", "train"):
        from . import training

        return getattr(training, name)
    raise AttributeError(name)
