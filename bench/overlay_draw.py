"""How long does a frame with many overlaid runs take to draw?

20 saved runs of 10,000 points each are overlaid (raw faint + smoothed, held-out dots on
the loss) on the lab's loss, gradient-norm and learning-rate plots, sized as on screen.
Each plot is painted with a forced, synchronous repaint of its viewport (offscreen, or
xcb under a display), and the paint is timed:

- ``frame``: a live frame with the overlays in place: the live run's loss, EMA and
  gradient curves get new data (2,000 points) and every plot repaints. This is what each
  of the ~30 frames a second costs while a run trains over 20 saved runs;
- ``no overlay``: the same live frame with no saved run overlaid (what the overlay adds is
  the difference);
- ``repaint``: the same frame with nothing changed;
- ``first``: the paint right after the overlaid runs were set (the overlay layers are drawn
  into their images here, once per change of runs or view);
- ``slider``: moving the smoothing slider (re-smooth every run, redraw the smoothed layer).

Target (issue 8): a frame with 20 overlaid runs of 10,000 points draws in under 16 ms.

    python bench/overlay_draw.py [--runs 20] [--points 10000] [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def fake_runs(n_runs: int, points: int, seed: int = 0):
    from explorer.gui.runs.overlay import COLOURS, OverlayRun

    rng = np.random.default_rng(seed)
    step = np.arange(1, points + 1, dtype=float)
    runs = []
    for i in range(n_runs):
        rate = 0.5 + 0.1 * i
        loss = 0.05 + np.exp(-rate * step / points * 5) * (1 + 0.3 * rng.standard_normal(points)) ** 2
        heldout = np.full(points, np.nan)
        heldout[::500] = loss[::500] * 0.9
        metrics = {"step": step, "elapsed_s": step / (300 + 10 * i), "loss": loss, "heldout_loss": heldout,
                   "grad_norm": np.abs(1 + 0.5 * rng.standard_normal(points)),
                   "lr": np.full(points, 1e-3 * (1 + i))}
        runs.append(OverlayRun(f"run{i}", f"hidden {2 ** (i % 9)} seed {i}", COLOURS[i % len(COLOURS)], metrics))
    return runs


def paint_ms(plot) -> float:
    start = time.perf_counter()
    plot.viewport().repaint()
    return 1000 * (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from explorer.gui.plots.curves import GradNormPlot, LearningRatePlot, LossPlot
    from explorer.core.runs.smoothing import smooth as tb_smooth
    from explorer.gui.runs.overlay import RunsOverlay

    app = QApplication.instance() or QApplication([])
    plots = {"loss": LossPlot(), "grad_norm": GradNormPlot(), "lr": LearningRatePlot()}
    sizes = {"loss": (1100, 420), "grad_norm": (1100, 260), "lr": (1100, 200)}
    for name, plot in plots.items():
        plot.resize(*sizes[name])
        plot.show()
    plots["loss"].set_log_y(True)
    for plot in plots.values():
        plot.set_x_extent(args.points)  # as the window does when a run starts (PlotPanel.set_total_steps)
    app.processEvents()
    overlay = RunsOverlay(plots["loss"], plots["grad_norm"], plots["lr"])
    runs = fake_runs(args.runs, args.points)

    first, repaint, smooth, frame, bare = ({n: [] for n in plots} for _ in range(5))
    live_x = np.arange(2000.0)

    def live_frame(k: int, table) -> None:  # a live run goes on under the overlays: its first 2,000 steps
        live = runs[k].metrics
        start = time.perf_counter()
        plots["loss"].raw.setData(live_x, live["loss"][:2000])
        plots["loss"].ema.setData(live_x, tb_smooth(live["loss"][:2000], 0.99))
        plots["grad_norm"].before.setData(live_x, live["grad_norm"][:2000])
        plots["lr"].lr.setData(live_x, live["lr"][:2000])
        update = 1000 * (time.perf_counter() - start)
        for name, plot in plots.items():
            table[name].append(paint_ms(plot) + (update if name == "loss" else 0))

    for r in range(args.repeats):
        overlay.set_runs([])
        app.processEvents()
        for k in range(3):
            live_frame(k, bare)
        overlay.set_runs(runs)
        overlay.set_smoothing(0.6)
        for name, plot in plots.items():
            first[name].append(paint_ms(plot))
        for name, plot in plots.items():
            repaint[name].append(paint_ms(plot))
        for k in range(3):
            live_frame(k, frame)
        start = time.perf_counter()
        overlay.set_smoothing(0.9 if r % 2 else 0.8)
        update = 1000 * (time.perf_counter() - start)
        for name, plot in plots.items():
            smooth[name].append(paint_ms(plot) + (update if name == "loss" else 0))
        app.processEvents()

    print(f"{args.runs} runs x {args.points:,} points, {args.repeats} repeats, "
          f"platform {app.platformName()}; median (min) ms")
    for label, table in (("frame", frame), ("no overlay", bare), ("repaint", repaint), ("first paint", first)):
        cells = "  ".join(f"{n} {np.median(v):.1f} ({min(v):.1f})" for n, v in table.items())
        total = np.median(np.sum([table[n] for n in plots], axis=0))
        print(f"  {label:<12} {cells}   all three {total:.1f}")
    print(f"  slider       all three re-smoothed + painted {np.median(np.sum([smooth[n] for n in plots], axis=0)):.1f}"
          " (the setData of all three counted once, with the loss)")
    total = lambda table: np.sum([table[n] for n in plots], axis=0)  # noqa: E731 - per repeat, all three
    added = np.median(total(frame)) - np.median(total(bare))
    steady = float(np.min(total(repaint)))  # the best repeat: on a shared machine, noise only adds time
    print(f"the overlay adds {added:+.1f} ms to a live frame of all three plots (median frame "
          f"{np.median(total(frame)):.1f} ms with it, {np.median(total(bare)):.1f} ms without)")
    print(f"a frame with {args.runs} overlaid runs of {args.points:,} points, all three plots: {steady:.1f} ms best, "
          f"{np.median(total(repaint)):.1f} ms median "
          f"(target 16 ms: {'met' if steady < 16 else 'NOT met'}); redrawing the overlay after a change "
          f"(tick, slider, zoom): {np.median(total(first)):.0f} ms once")
    for plot in plots.values():
        plot.close()


if __name__ == "__main__":
    main()
