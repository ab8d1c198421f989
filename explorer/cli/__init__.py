"""Headless commands (no Qt). Each module has ``add_parser(subparsers)`` which sets
``run=callable(args) -> int``; modules import torch only inside ``run``."""

from explorer.cli import export, presets, runs, scan, sweep, train

COMMANDS = [presets, scan, train, runs, sweep, export]
