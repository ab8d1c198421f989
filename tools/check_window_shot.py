"""CI's check of the real window: the app said it was on screen within the limit, and the
screenshot it took shows something (not a blank or black screen).

    python tools/check_window_shot.py STARTUP.txt SHOT.png --within 5
"""

from __future__ import annotations

import argparse
import re
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("startup", help="the app's output with SCAN_EXPLORER_REPORT_STARTUP=1")
    parser.add_argument("shot", help="the screenshot (PNG)")
    parser.add_argument("--within", type=float, default=5.0, help="seconds allowed to the window on screen")
    args = parser.parse_args(argv)
    text = open(args.startup, encoding="utf-8").read()
    found = re.search(r"window shown after ([0-9.]+) s", text)
    if not found:
        print(f"the window did not appear on the X server: {text.strip() or 'no output'}", file=sys.stderr)
        return 1
    seconds = float(found.group(1))
    if seconds > args.within:
        print(f"the window took {seconds:.2f} s to appear (limit {args.within:g} s)", file=sys.stderr)
        return 1
    from PySide6.QtGui import QImage

    image = QImage(args.shot)
    if image.isNull():
        print(f"no screenshot at {args.shot}", file=sys.stderr)
        return 1
    colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 37)}
    if len(colours) < 8:
        print(f"the screenshot {args.shot} is nearly blank ({len(colours)} colours)", file=sys.stderr)
        return 1
    print(f"window on screen after {seconds:.2f} s; screenshot {args.shot} ({image.width()}x{image.height()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
