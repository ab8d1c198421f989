"""Headless commands (no Qt). Each module has ``add_parser(subparsers)`` which sets
``run=callable(args) -> int``; modules import torch only inside ``run``."""

from explorer.cli import export, presets, scan, train

COMMANDS = [presets, scan, train, export]
