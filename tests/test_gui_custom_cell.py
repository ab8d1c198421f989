"""A custom-cell preset loaded into the forms comes back out with its cell intact."""

import pytest

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
