"""How soon is the window on screen after ``python main.py``? (Target: about 1.5 s.)

Spawns the app, times from the spawn to the line the app prints once its window is shown
and painted (``SCAN_EXPLORER_REPORT_STARTUP=1``), and for comparison how long
``import torch`` alone takes in a fresh interpreter. Uses the display if there is one
(run under ``xvfb-run -a``), else the offscreen platform.

    xvfb-run -a python bench/startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def time_window() -> float:
    env = dict(os.environ, SCAN_EXPLORER_REPORT_STARTUP="1")
    env.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")
    with tempfile.TemporaryDirectory() as tmp:
        env["XDG_CONFIG_HOME"] = tmp  # fresh settings
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "main.py", "--screenshot", os.path.join(tmp, "s.png"),
                                 "--screenshot-after", "1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True, env=env)
        for line in proc.stdout:
            if line.startswith("window shown"):
                shown = time.perf_counter() - start
                break
        else:
            raise RuntimeError("the app never reported its window")
        proc.wait(timeout=60)
    return shown


def time_torch() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    time_window()  # warm the file cache
    windows = [time_window() for _ in range(args.repeats)]
    torches = [time_torch() for _ in range(args.repeats)]
    print(f"window shown after {statistics.median(windows):.2f} s (median of {args.repeats}; "
          f"min {min(windows):.2f}, max {max(windows):.2f}); target about 1.5 s")
    print(f"for comparison, `python -c 'import torch'` takes {statistics.median(torches):.2f} s")


if __name__ == "__main__":
    main()
