"""One validation for every way a value comes in (issue 9, item 6): files and forms go
through ExperimentConfig.validate, CLI overrides too, and live edits while training (the
form's live_edit and TrainControl) use the same per-field check, so lr inf / nan / 1e309 /
1e300 and clip nan never reach the trainer."""


import pytest

from explorer.core.errors import ConfigError
from explorer.core.lab.config import ExperimentConfig, field_problems
from explorer.core.lab.control import TrainControl

BAD_LR = ["inf", "nan", "1e309", "1e300", "-1", "0"]
BAD_CLIP = ["nan", "inf", "-0.5"]


@pytest.mark.parametrize("text", BAD_LR)
def test_train_control_refuses_bad_learning_rates(text):
    control = TrainControl()
    with pytest.raises(ConfigError) as info:
        control.set_lr(float(text))
    assert info.value.fields == ["train.lr"]
    assert control.take()[0] is None and control.version == 0  # nothing reached the trainer


@pytest.mark.parametrize("text", BAD_CLIP)
def test_train_control_refuses_bad_clip_norms(text):
    control = TrainControl()
    with pytest.raises(ConfigError) as info:
        control.set_clip(float(text))
    assert info.value.fields == ["train.clip_norm"]
    assert control.take()[1] is False


def test_train_control_accepts_what_the_form_accepts():
    control = TrainControl()
    control.set_lr(0.01)
    control.set_clip(0)  # off
    control.set_lr(None)  # back to the schedule
    lr, clip_set, clip, _, _ = control.take()
    assert (lr, clip_set, clip) == (None, True, None)


@pytest.mark.parametrize("text", BAD_LR)
def test_files_and_live_edits_agree(text):
    value = float(text)
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict({"train": {"lr": value}})
    assert info.value.fields == ["train.lr"]
    assert [p.field for p in field_problems("train", "lr", value)] == ["train.lr"]


@pytest.mark.gui
@pytest.mark.parametrize("name, text", [("lr", t) for t in BAD_LR] + [("clip_norm", t) for t in BAD_CLIP])
def test_the_form_refuses_bad_live_edits_and_marks_the_field(qtbot, name, text):
    from explorer.gui.experiment_forms import ExperimentForms

    forms = ExperimentForms()
    qtbot.addWidget(forms)
    forms.set_running(True)
    sent = []
    forms.live_edit.connect(lambda n, v: sent.append((n, v)))
    train = forms.forms["train"]
    train.editors[name].setText(text)
    train.editors[name].textEdited.emit(text)
    assert sent == []
    assert train.editors[name].property("invalid") is True
    assert train.errors[name].text()
    train.editors[name].setText("0.5")
    train.editors[name].textEdited.emit("0.5")
    assert sent == [(name, 0.5)] and train.editors[name].property("invalid") is False
