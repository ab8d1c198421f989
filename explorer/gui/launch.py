"""Open the main window (filled in by the window issue)."""


def run_window(args) -> int:
    raise SystemExit("the window is not available yet; see `python main.py --help`")
