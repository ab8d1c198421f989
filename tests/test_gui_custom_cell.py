"""A custom-cell preset loaded into the forms comes back out with its cell intact."""

import pytest

from gui_helpers import settings, window  # noqa: F401 - fixtures

from explorer.core.lab.config import ExperimentConfig
from explorer.core.presets import load_preset

pytestmark = pytest.mark.gui


def test_forms_keep_a_custom_cell(qtbot):
    from explorer.gui.experiment_forms import ExperimentForms

    forms = ExperimentForms()
    qtbot.addWidget(forms)
    config = ExperimentConfig.from_dict(load_preset("train", "minimal_gated_unit"))
    forms.set_config(config)
    back, problems = forms.config()
    assert not problems and back == config and back.model.custom.variables[0].name == "f"


def test_the_testing_panel_tests_a_trained_custom_cell(qtbot, window):
    import dataclasses

    from explorer.gui.session import DONE

    from gui_helpers import wait_state

    config = ExperimentConfig.from_dict(load_preset("train", "one_unit_accumulator"))
    window.forms.set_config(dataclasses.replace(config, train=dataclasses.replace(config.train, steps=40)))
    window.play()
    wait_state(qtbot, window.session, DONE)
    qtbot.waitUntil(lambda: window.testing.model is not None, timeout=30_000)
    assert window.testing.weights_step == 40 and window.testing.model.custom
