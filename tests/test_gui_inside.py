"""The lab's Inside tab: what the worker measured on the probe, drawn (units sorted by variance,
gates stacked, PCA, eigenvalues with their history), for built-in and custom cells."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from explorer.core.lab.config import ExperimentConfig
from explorer.core.presets import load_preset
from explorer.gui.session import DONE
from gui_helpers import settings, small_config, wait_state, window  # noqa: F401 - fixtures


def _train(window, qtbot, config):
    window.forms.set_config(config)
    window.plots.diagnostics.setCurrentWidget(window.plots.inside.parentWidget())
    window.show()
    qtbot.waitExposed(window)
    window.play()
    wait_state(qtbot, window.session, DONE)
    view = window.plots.inside
    qtbot.waitUntil(lambda: view.up_to_date(window.session.data), timeout=10_000)  # a few panes a frame
    return view


@pytest.mark.parametrize("cell,gates", [("gru", "rzn"), ("lstm", "ifgo")])
def test_gated_cells_show_units_gates_pca_and_eigenvalues(window, qtbot, cell, gates):
    config = small_config(probe_every=10)
    config = dataclasses.replace(config, model=dataclasses.replace(config.model, cell=cell))
    view = _train(window, qtbot, config)
    data = window.session.data
    inside = data.inside
    assert inside is not None and view.cell == cell
    H, T = inside.units.shape
    image = view.units_image.image
    np.testing.assert_allclose(image, inside.units[inside.order])  # busiest unit first
    assert view.gates_image.image.shape == (len(gates) * H, T)  # every gate, stacked
    ticks = [label for _, label in view.gates_plot.getAxis("left")._tickLevels[0]]
    assert ticks == list(gates)
    assert "saturated" in view.gates_plot.titleLabel.text
    x, y = view.pca_path.getData()
    np.testing.assert_allclose(np.c_[x, y], inside.pca)
    step, values, radius = data.eigen
    ex, ey = view.eig_points.getData()
    np.testing.assert_allclose(ex + 1j * ey, values)
    assert f"radius {radius:.3g}" in view.eig_plot.titleLabel.text
    rx, _ = view.radius_curve.getData()
    assert len(rx) >= 1 and step in rx
    view.sort_units.setChecked(False)  # the units in their own order
    np.testing.assert_allclose(view.units_image.image, inside.units)


def test_a_custom_cell_shows_its_units_and_its_diagonal_recurrence(window, qtbot):
    data = load_preset("train", "indrnn")
    data["train"] = {**data["train"], "steps": 30, "probe_every": 10, "report_every": 5, "eval_every": 0}
    data["model"] = {**data["model"], "hidden_size": 8}
    view = _train(window, qtbot, ExperimentConfig.from_dict(data))
    inside = window.session.data.inside
    assert inside.gates is None and view.gates_image.image is None
    assert view.placeholders[view.gates_plot].isVisible()  # "gates: GRU and LSTM"
    _, values, _ = window.session.data.eigen
    assert np.allclose(values.imag, 0) and len(values) == 8  # u's entries
    assert view.units_image.image.shape == inside.units.shape


def test_a_new_run_clears_the_tab(window, qtbot):
    view = _train(window, qtbot, small_config(probe_every=10))
    assert view.units_image.image is not None
    window.session.reset()
    qtbot.waitUntil(lambda: view.up_to_date(window.session.data), timeout=10_000)
    assert window.session.data.inside is None
    assert view.units_image.image is None and view.placeholders[view.units_plot].isVisible()


def test_the_tab_enlarges_and_exports(window, qtbot, tmp_path):
    _train(window, qtbot, small_config(probe_every=10))
    window.plots.enlarge("inside")
    assert window.plots.enlarged == "inside"
    window.plots.restore()
    paths = window.plots.export_svg(tmp_path)
    svg = tmp_path / "inside.svg"
    assert svg in paths and svg.stat().st_size > 1000


def test_a_new_probe_is_drawn_a_few_panes_per_frame(window, qtbot):
    """Six panes at once cost a frame over 100 ms on xcb (the soak's gaps): each frame draws
    panes for at most PANE_BUDGET_S, and every pane catches up within a few frames."""
    from explorer.gui.plots import inside as module

    view = _train(window, qtbot, small_config(probe_every=10))
    data = window.session.data
    data.probe_version += 1  # a new probe
    calls = []
    for name in ("_draw_units", "_draw_gates", "_draw_pca", "_draw_eigen", "_draw_history"):
        real = getattr(view, name)
        setattr(view, name, lambda *a, real=real, name=name: (calls.append(name), real(*a)))
    view._seen = None
    original = module.PANE_BUDGET_S
    module.PANE_BUDGET_S = 0.0  # one pane per frame
    try:
        view.refresh(data)
        assert len(calls) == 1 and not view.up_to_date(data)
        for _ in range(4):
            view.refresh(data)
    finally:
        module.PANE_BUDGET_S = original
    assert len(calls) == 5 and view.up_to_date(data)


def test_probes_faster_than_frames_still_reach_every_pane(window, qtbot):
    from explorer.gui.plots import inside as module

    view = _train(window, qtbot, small_config(probe_every=10))
    data = window.session.data
    drawn = []
    for name in ("_draw_units", "_draw_gates", "_draw_pca", "_draw_eigen", "_draw_history"):
        real = getattr(view, name)
        setattr(view, name, lambda *a, real=real, name=name: (drawn.append(name), real(*a)))
    original = module.PANE_BUDGET_S
    module.PANE_BUDGET_S = 0.0  # one pane per frame, and a new probe before every frame
    try:
        for _ in range(5):
            data.probe_version += 1
            view.refresh(data)
    finally:
        module.PANE_BUDGET_S = original
    assert sorted(drawn) == sorted(["_draw_units", "_draw_gates", "_draw_pca", "_draw_eigen", "_draw_history"])
