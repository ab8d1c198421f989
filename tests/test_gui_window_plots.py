"""Plots that read: readout at the cursor and gone on leave, labels inside the view, keys
beside the data, plain axes, the wheel scrolls, any plot enlarges."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea, QVBoxLayout, QWidget

from explorer.gui.plots.panel import PlotPanel
from explorer.gui.run_data import RunData
from explorer.gui.session import DONE
from gui_helpers import settings, small_config, wait_state, window  # noqa: F401 - fixtures


class Report:
    """A full report with only the scalars the loss plot reads (the rest absent)."""

    def __init__(self, step, loss):
        self.step, self.loss, self.loss_ema, self.lr = step, loss, loss, 0.1
        self.grad_norm = self.grad_norm_clipped = 1.0
        self.clip_norm = self.clipped_fraction = self.steps_per_s = self.elapsed_s = None
        self.heldout_loss = None
        self.param_grad_norms = self.grad_flow = self.probe = None
        self.total_steps = 100


@pytest.fixture
def panel(qtbot):
    data = RunData()
    data.add([Report(s, 10.0 * np.exp(-s / 30)) for s in range(0, 101, 5)])
    p = PlotPanel(data)
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    qtbot.waitExposed(p)
    p.set_total_steps(100)
    p.set_reference_lines({"predict 0": 5.0, "floor": 4.4, "source 000 (printed loss EMA)": 0.024})
    p.refresh()
    yield p
    p.timer.stop()


def scene_rect(item):
    return item.sceneBoundingRect()


def hover(plot, x, y):
    pos = plot.getPlotItem().vb.mapViewToScene(QPointF(x, y))
    plot.scene().sigMouseMoved.emit(pos)


@pytest.mark.parametrize("x", [3, 50, 98])
def test_readout_shows_inside_the_view_at_the_cursor_and_hides_on_leave(panel, x):
    plot = panel.loss
    vb = plot.getPlotItem().vb
    (_, _), (y0, y1) = vb.viewRange()
    hover(plot, x, (y0 + y1) / 2)
    readout = plot._readout
    assert readout.isVisible()
    assert vb.sceneBoundingRect().contains(scene_rect(readout)), "the readout leaves the plot"
    nearest = int(5 * round(x / 5))
    assert readout.toPlainText().startswith(f"step {nearest}")
    QApplication.sendEvent(plot, QEvent(QEvent.Type.Leave))
    assert not readout.isVisible() and not plot._vline.isVisible()


def test_readout_is_cleared_by_a_new_run(panel):
    hover(panel.loss, 50, np.mean(panel.loss.getPlotItem().vb.viewRange()[1]))
    assert panel.loss._readout.isVisible()
    panel.data.clear()
    panel._frame()
    assert not panel.loss._readout.isVisible()


def test_reference_lines_are_named_in_the_key_never_over_the_curves(panel):
    """Each line in its own colour, named beside the plot with its value (a label in the view
    covered some run's curve: overlaid runs start high, good ones end low)."""
    loss = panel.loss
    assert loss.reference_key() == ["predict 0: 5", "floor: 4.4", "source 000 (printed loss EMA): 0.024"]
    colours = [line.pen.color().name() for line, _, _ in loss._lines]
    assert len(set(colours)) == 3
    for text, colour in zip(loss.reference_key(), colours):
        assert f"color:{colour}'>┄┄</span>&nbsp;{text}" in loss.key.text
    vb_rect = loss.getPlotItem().vb.sceneBoundingRect()
    assert loss.key.sceneBoundingRect().intersected(vb_rect).width() < 1
    assert not [item for item in loss.getPlotItem().vb.addedItems if isinstance(item, pg.TextItem) and
                item.isVisible() and item is not loss._readout]  # no text drawn over the data
    loss.set_log_y(True)
    assert loss._lines[0][0].value() == pytest.approx(np.log10(5.0))


def test_keys_sit_beside_the_data_never_over_it(panel):
    for plot in (panel.loss, panel.grad):
        vb_rect = plot.getPlotItem().vb.sceneBoundingRect()
        key_rect = plot.key.sceneBoundingRect()
        assert "EMA" in plot.key.text or "clipping" in plot.key.text
        assert key_rect.width() > 0 and key_rect.intersected(vb_rect).width() < 1
    probe = panel.probe
    assert probe.key.sceneBoundingRect().intersected(probe.bottom.vb.sceneBoundingRect()).width() < 1


def test_axes_have_no_si_prefix_and_the_heatmap_has_a_labelled_scale(panel):
    for plot in (panel.loss, panel.grad, panel.params, panel.lr):
        for axis in plot.getPlotItem().axes.values():
            assert not axis["item"].autoSIPrefix
    for p in (panel.flow.map, panel.flow.last):
        for axis in p.axes.values():
            assert "(x" not in axis["item"].labelString()
    assert any("‖∂L/∂h_t‖" in panel.flow.bar.getAxis(side).labelText for side in ("left", "right"))
    assert panel.flow.empty.isVisible()
    vb = panel.flow.map.vb
    panel.diagnostics.setCurrentWidget(panel.flow.parentWidget())
    QApplication.processEvents()
    assert vb.sceneBoundingRect().contains(scene_rect(panel.flow.empty)), "the placeholder is clipped"


def wheel(widget, modifiers=Qt.KeyboardModifier.NoModifier):
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(centre, widget.mapToGlobal(centre), QPoint(0, 0), QPoint(0, -120),
                        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget.viewport(), event)


def test_the_wheel_scrolls_the_panel_and_zooms_only_with_ctrl(qtbot):
    from explorer.gui.testing_panel import ExamplePlot

    area = QScrollArea()
    body = QWidget()
    column = QVBoxLayout(body)
    plots = [ExamplePlot() for _ in range(6)]
    for p in plots:
        p.plot([0, 1, 2], [0, 1, 0])
        column.addWidget(p)
    area.setWidget(body)
    area.resize(400, 300)
    qtbot.addWidget(area)
    area.show()
    qtbot.waitExposed(area)
    before = plots[0].getPlotItem().vb.viewRange()
    wheel(plots[0])
    assert area.verticalScrollBar().value() > 0, "the wheel did not scroll the panel"
    assert plots[0].getPlotItem().vb.viewRange() == before, "the wheel zoomed the plot"
    wheel(plots[0], Qt.KeyboardModifier.ControlModifier)
    assert plots[0].getPlotItem().vb.viewRange() != before, "Ctrl+wheel did not zoom"


def test_double_click_enlarges_a_plot_and_esc_returns(window, qtbot):
    window.show()
    qtbot.waitExposed(window)
    plots = window.plots
    small = plots.grad.width() * plots.grad.height()
    qtbot.mouseDClick(plots.grad.viewport(), Qt.MouseButton.LeftButton)
    assert plots.enlarged == "grad_norm" and plots.stack.currentWidget() is plots.big
    QApplication.processEvents()
    assert plots.grad.isVisible() and plots.grad.width() * plots.grad.height() > 2 * small
    plots.grad.setFocus()
    qtbot.keyClick(plots.grad, Qt.Key.Key_Escape)
    assert plots.enlarged == "" and plots.stack.currentWidget() is plots.overview
    assert plots.grad.parentWidget() is not plots.big and plots.grad.isVisibleTo(plots.diagnostics)
    assert window.session.state == "idle"  # Esc went back; it did not stop anything


def test_the_diagnostics_tabs_keep_the_layout_still_while_training(window, qtbot):
    window.show()
    qtbot.waitExposed(window)
    before = (window.plots.loss.size(), window.testing.size())
    window.forms.set_config(small_config())
    window.play()
    wait_state(qtbot, window.session, DONE)
    window.plots.refresh()
    QApplication.processEvents()
    assert (window.plots.loss.size(), window.testing.size()) == before
    assert window.lab.side.tabText(0) == "Testing"


def test_log_axis_labels_never_stack_up(panel):
    axis = panel.loss.getPlotItem().getAxis("left")
    axis.setRange(18.3, 20.0)  # 2e18 .. 1e20: under two decades
    values = [np.log10(m * 10.0 ** e) for e in (18, 19) for m in range(1, 10)]
    labels = axis.tickStrings(values, 1.0, 1.0)
    shown = [v for v, text in zip(values, labels) if text]
    assert [round(10 ** (v % 1)) for v in shown] == [1, 2, 5, 1, 2, 5]
    axis.setRange(0.0, 20.0)  # twenty decades: only the decades
    labels = axis.tickStrings(values, 1.0, 1.0)
    assert sum(1 for text in labels if text) == 2


def test_one_gradient_flow_row_shows_as_a_band(panel):
    panel.data.flow.append(20, np.linspace(1.0, 0.01, 30))
    panel.set_total_steps(3000)
    panel.refresh()
    rect = panel.flow.image.mapRectToParent(panel.flow.image.boundingRect())
    assert rect.height() >= 3000 / 50 - 1e-6


def test_a_frame_draws_one_plot_per_turn_of_the_event_loop(panel, qtbot, monkeypatch):
    """All plots refreshed in one turn, their scenes' queued updates held the GUI thread for
    100-140 ms (bench/soak.py --why); one plot per turn lets a tick or a key press in between."""
    from PySide6.QtCore import QTimer

    qtbot.waitUntil(lambda: not panel._pending)  # the panel's own timer may be mid-frame
    order = []
    for name, plot in panel.plots.items():
        monkeypatch.setattr(plot, "refresh", lambda data, name=name: order.append(name))
    panel.frames = frames = 0  # an even frame: every plot, the secondary ones too
    panel._frame()
    assert len(order) == 1 and panel._pending  # the first plot now, the rest in later turns
    QTimer.singleShot(0, lambda: order.append("other work"))
    qtbot.waitUntil(lambda: panel.frames == frames + 1)
    assert "other work" in order[1:-1], order
    assert sorted(n for n in order if n != "other work") == sorted(panel.plots)  # a secondary frame: all plots


def test_a_summary_too_long_for_its_bar_ends_in_an_ellipsis_never_loses_its_start(panel):
    """Right-aligned, a QLabel cut the start off: 'tep 930 loss ...'. The step must stay readable:
    the long text draws exactly as its elided form ('step 930   loss…') does."""
    from PySide6.QtGui import QImage

    label = panel.summary
    long = "step 930   loss 0.07345   EMA 0.1524   held-out 0.04693   clipped 92% of steps"
    label.setFixedWidth(label.fontMetrics().horizontalAdvance("step 930   loss 0.07345") + 4)
    shown = label.fontMetrics().elidedText(long, Qt.TextElideMode.ElideRight, label.contentsRect().width())
    assert shown.startswith("step 930") and shown.endswith("…")

    def drawn(text):
        label.setText(text)
        image = QImage(label.size(), QImage.Format.Format_ARGB32)
        image.fill(0)
        label.render(image)
        return image

    assert drawn(long) == drawn(shown)
    label.setText(long)
    assert label.text() == long  # the whole text is still the label's
