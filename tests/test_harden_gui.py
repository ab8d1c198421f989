"""Bad files and checkpoints reach the window as messages naming the file and the field
(issue 9 items 1-2, issue 10: "a non-UTF-8 file opened from the workbench does nothing")."""

import json

import pytest
from safetensors import safe_open
from safetensors.torch import save_file

from explorer.core.lab.persistence import FORMAT
from explorer.core.lab.training import Trainer
from explorer.gui.session import IDLE
from gui_helpers import bench, settings, small_config, window  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui


def test_the_workbench_says_why_it_cannot_open_a_bad_file(bench, tmp_path):
    for name, content, words in [("latin.json", b'{"title": "caf\xe9"}', "not UTF-8"),
                                 ("deep.json", b"[" * 100_000 + b"]" * 100_000, "deep"),
                                 ("nan.json", b'{"title": NaN}', "NaN")]:
        path = tmp_path / name
        path.write_bytes(content)
        messages = []
        bench.message.connect(messages.append)
        assert bench.open(path) is False
        bench.message.disconnect(messages.append)
        assert name in messages[-1] and words in messages[-1]


def test_the_window_names_the_field_of_a_damaged_checkpoint(window, qtbot, tmp_path):
    good = tmp_path / "good.safetensors"
    trainer = Trainer(small_config(steps=2))
    list(trainer.reports())
    trainer.checkpoint(good)
    with safe_open(str(good), "pt") as fh:
        meta = json.loads(fh.metadata()["meta"])
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    meta["lr_override"] = "nan"
    bad = tmp_path / "bad.safetensors"
    save_file(tensors, str(bad), metadata={"format": FORMAT, "meta": json.dumps(meta)})
    window.resume_checkpoint(str(bad))
    qtbot.waitUntil(lambda: window.last_alert is not None, timeout=60_000)
    assert window.last_alert.windowTitle() == "Cannot resume"  # and the window stays as it was
    text = window.last_alert.text()
    assert "bad.safetensors" in text and "'lr_override'" in text and "Traceback" not in text
    assert window.session.state == IDLE
    window.last_alert.close()
