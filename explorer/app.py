"""Command-line entry point: ``python main.py [--preset NAME]`` opens the window;
``python main.py scan|train|presets ...`` runs headless and never loads Qt.

The GUI package is imported only when a window is asked for, and torch only when a
command needs it, so ``--help`` and the window's first paint stay fast.
"""

from __future__ import annotations

import argparse
import os
import sys

from explorer.cli import COMMANDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scan-explorer",
        description="Build, run, train and see recurrent computation. "
        "With no command, opens the window.",
    )
    parser.add_argument("--preset", metavar="NAME", help="open the window with this training preset")
    parser.add_argument("--scan-preset", metavar="NAME", help="open the window on this scan preset")
    parser.add_argument("--screenshot", metavar="PNG", help=argparse.SUPPRESS)  # for docs and checks
    parser.add_argument("--screenshot-after", type=float, default=3.0, help=argparse.SUPPRESS)
    parser.add_argument("--play", action="store_true", help="press Play once the window is up")
    parser.add_argument("--workspace", metavar="DIR", help="the workspace folder of recorded runs "
                        "(default: $SCAN_EXPLORER_WORKSPACE, else the per-user data folder)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from explorer.gui.launch import run_window  # Qt is loaded only here

        return run_window(args)
    from explorer.core.errors import ExplorerError

    try:
        code = int(args.run(args) or 0)
        sys.stdout.flush()  # inside the try: a reader that left early is a BrokenPipeError here
        return code
    except ExplorerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (`... | head -1`): stop quietly, as Unix tools do
        return _stdout_gone()


def launch() -> None:
    """``main()`` as the process (``python main.py``, ``python -m explorer``): exits with its code.

    A sweep worker skips the interpreter's teardown: its trials are in the storage and the run
    store by the time ``main`` returns, and unloading torch takes 0.6-0.7 s of every worker's
    life here (sweeps of short trials wait for it)."""
    code = main()
    if sys.argv[1:3] == ["sweep", "worker"]:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _stdout_gone() -> int:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise again; 141 is
    the shell's code for a SIGPIPE death."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141
