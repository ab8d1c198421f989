"""Five minutes of live training in the window: GUI-thread gaps and memory (issue 9's soak).

The real window (xcb under a display, else offscreen) trains the default preset (a GRU) with
every diagnostic on, the Inside tab shown (``--tab``), as one long run (``--steps``, stopped when the
time is up: live training with plots, probes, the run record and the testing panel refreshing
every 3 s); with ``--restart`` short runs instead, each reset and started again when it ends. A 10 ms
QTimer on the GUI thread records every gap between its ticks; RSS is sampled every 5 s.

Targets: no GUI gap over 100 ms; flat RSS (the last minute's median within 5% of the second
minute's, the first minute being warm-up: imports, kernels, caches).

    xvfb-run -a -s "-screen 0 1600x1000x24" python bench/soak.py [--minutes 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--preset", default="default")
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--restart", action="store_true", help="the preset's own steps, run after run")
    parser.add_argument("--tab", type=int, default=3, help="the diagnostics tab shown (3: Inside, 0: gradient norms)")
    parser.add_argument("--why", action="store_true",
                        help="time every event the GUI thread handles; list the slow ones by receiver and type")
    parser.add_argument("--switch-ms", type=float, default=None,
                        help="Python's thread switch interval for this run, in ms (default 5; measured "
                             "over 1.5 min: 7 gaps over 100 ms at 5 ms, 7 at 0.5 ms)")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")
    from PySide6.QtCore import QEvent, QEventLoop, QSettings, QThread, QTimer
    from PySide6.QtWidgets import QApplication

    from explorer.gui import gc_policy
    from explorer.gui.main_window import MainWindow
    from explorer.gui.session import DONE

    slow: dict[tuple[str, str], list[float]] = {}  # --why: (receiver class, event type) -> ms of each slow one
    paints: dict[str, list[float]] = {}  # --why: widget class -> ms of each of its paints
    recent: list = []  # --why: (end time, ms, what) of the GUI thread's events over 2 ms
    explained: list[str] = []  # --why: per gap over 100 ms, the events handled during it
    collections: dict[int, list[float]] = {}  # --why: generation -> ms of each garbage collection (any thread)
    if args.why:
        import gc

        began = [0.0]

        def on_gc(phase, info):
            if phase == "start":
                began[0] = time.perf_counter()
            else:
                collections.setdefault(info["generation"], []).append((time.perf_counter() - began[0]) * 1000)

        gc.callbacks.append(on_gc)

    class TimedApp(QApplication):
        depth = 0

        def notify(self, receiver, event):  # the outermost handler's time: what the tick timer waits for
            if QThread.currentThread() is not self.thread():  # notify runs on every thread: time the GUI's only
                return super().notify(receiver, event)
            TimedApp.depth += 1
            kind, t0 = event.type(), time.perf_counter()
            try:
                return super().notify(receiver, event)
            finally:
                TimedApp.depth -= 1
                ms = (time.perf_counter() - t0) * 1000
                if TimedApp.depth == 0 and ms > 50:
                    slow.setdefault((type(receiver).__name__, str(kind).split(".")[-1]), []).append(ms)
                if TimedApp.depth == 0 and ms > 2:
                    recent.append((time.perf_counter(), ms, f"{type(receiver).__name__} {str(kind).split('.')[-1]}"))
                if kind == QEvent.Type.Paint:  # each widget's own paint (nested in the window's UpdateRequest)
                    name = type(receiver).__name__
                    parent = receiver.parent()
                    while parent is not None and name in ("QWidget", "PlotWidget", "GraphicsLayoutWidget"):
                        name = f"{type(parent).__name__}/{name}"  # say whose
                        parent = None if "/" in name and name.split("/")[0] != "QWidget" else parent.parent()
                    paints.setdefault(name, []).append(ms)

    app = QApplication.instance() or (TimedApp([]) if args.why else QApplication([]))
    gc_policy.install()  # as the app's launch does
    workspace = tempfile.mkdtemp(prefix="soak-")  # its runs are recorded here, not in the user's workspace
    window = MainWindow(preset=args.preset, settings=QSettings(os.path.join(workspace, "settings.ini"),
                                                               QSettings.Format.IniFormat),
                        workspace=os.path.join(workspace, "runs"))
    if args.switch_ms is not None:
        sys.setswitchinterval(args.switch_ms / 1000)
    window.resize(1500, 950)
    window.show()
    app.processEvents()
    window.plots.diagnostics.setCurrentIndex(args.tab)
    if not args.restart:
        window.forms.forms["train"].editors["steps"].setText(str(args.steps))

    gaps: list[tuple[float, float]] = []  # (seconds since start, gap ms beyond the 10 ms interval)
    rss: list[tuple[float, float]] = []
    runs = [0]
    start = time.perf_counter()
    last = [start]
    tick = QTimer()
    tick.setInterval(10)

    def on_tick():
        now = time.perf_counter()
        gaps.append((now - start, (now - last[0]) * 1000 - 10))
        if args.why and gaps[-1][1] > 100 and now - start > 5:
            during = [(ms, what) for end, ms, what in recent if end > last[0]]
            explained.append(f"{gaps[-1][1]:.0f} ms at {now - start:.0f} s: events {sum(m for m, _ in during):.0f} ms "
                             f"({', '.join(f'{w} {m:.0f}' for m, w in during)})")
        recent.clear()
        last[0] = now

    sampler = QTimer()
    sampler.setInterval(5000)
    sampler.timeout.connect(lambda: rss.append((time.perf_counter() - start, rss_mb())))
    loop = QEventLoop()
    end_at = start + 60 * args.minutes

    stopping = [False]

    def on_state(state):
        if state != DONE:
            return
        if stopping[0] or time.perf_counter() >= end_at:
            loop.quit()
            return
        runs[0] += 1
        QTimer.singleShot(50, lambda: (window.session.reset(), window.play()))  # the next run, as a user would

    window.session.state_changed.connect(on_state)
    def time_up():
        stopping[0] = True  # a coarse timer may fire a few per cent early: the run that ends now is the last
        window.session.stop()

    QTimer.singleShot(int(60_000 * args.minutes), time_up)
    tick.timeout.connect(on_tick)
    rss.append((0.0, rss_mb()))
    window.play()
    tick.start()
    sampler.start()
    loop.exec()
    tick.stop()
    sampler.stop()
    frames = window.plots.frames
    window.close()

    late = np.array([g for t, g in gaps if t > 5.0])  # the first seconds: the first training's imports
    over = [(t, g) for t, g in gaps if t > 5.0 and g > 100]
    minute = lambda a, b: [m for t, m in rss if a * 60 <= t < b * 60]  # noqa: E731
    second, final = minute(1, 2), minute(args.minutes - 1, args.minutes + 1)
    print(f"{args.minutes:g} minutes of live training ({runs[0] + 1} runs of {args.preset}), "
          f"platform {os.environ['QT_QPA_PLATFORM']}, {frames} plot frames, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"GUI gaps over {len(late)} ticks of 10 ms: p50 {np.percentile(late, 50):.1f} ms, p99 "
          f"{np.percentile(late, 99):.1f} ms, max {late.max():.1f} ms; over 100 ms: {len(over)} "
          f"{[f'{g:.0f} ms at {t:.0f} s' for t, g in over[:10]]} (target: none)")
    if second and final:
        a, b = statistics.median(second), statistics.median(final)
        print(f"RSS: start {rss[0][1]:.0f} MB, minute 2 median {a:.0f} MB, last minute median {b:.0f} MB "
              f"({100 * (b - a) / a:+.1f}%; target within 5%), max {max(m for _, m in rss):.0f} MB")
    for (receiver, kind), times in sorted(slow.items(), key=lambda kv: -sum(kv[1]))[:12]:
        print(f"  slow events: {receiver} {kind}: {len(times)} over 50 ms, max {max(times):.0f} ms")
    for line in explained[:15]:
        print(f"  gap {line}")
    for generation, times in sorted(collections.items()):
        print(f"  garbage collections, generation {generation}: {len(times)}, max {max(times):.1f} ms, "
              f"over 50 ms: {sum(t > 50 for t in times)}")
    for name, times in sorted(paints.items(), key=lambda kv: -sum(kv[1]))[:12]:
        print(f"  paints: {name}: {len(times)}, total {sum(times) / 1000:.1f} s, median {np.median(times):.1f} ms, "
              f"max {max(times):.0f} ms")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
