"""Single-key shortcuts never type into fields; a click on a plot or a tab takes focus."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from explorer.gui.session import IDLE, PAUSED
from gui_helpers import settings, small_config, window  # noqa: F401 - fixtures


def shown(window, qtbot):
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def test_space_and_s_in_a_field_type_and_do_not_train(window, qtbot):
    shown(window, qtbot)
    lr = window.forms.forms["train"].editors["lr"]
    lr.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is lr)
    lr.setText("0.001")
    qtbot.keyClick(lr, Qt.Key.Key_Space)
    qtbot.keyClick(lr, Qt.Key.Key_S)
    assert window.session.state == IDLE
    assert lr.text() == "0.001 s"  # the keys were the field's


def test_clicking_a_plot_or_a_tab_takes_focus_so_keys_act(window, qtbot):
    shown(window, qtbot)
    window.forms.set_config(small_config())
    lr = window.forms.forms["train"].editors["lr"]
    lr.setFocus()
    qtbot.mouseClick(window.plots.loss.viewport(), Qt.MouseButton.LeftButton)
    assert QApplication.focusWidget() is window.plots.loss
    lr.setFocus()
    bar = window.plots.diagnostics.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())
    assert QApplication.focusWidget() is bar
    qtbot.keyClick(bar, Qt.Key.Key_S)  # Step: one batch, then paused
    qtbot.waitUntil(lambda: window.session.state == PAUSED and window.session.data.last is not None,
                    timeout=20_000)
    window.session.reset()
