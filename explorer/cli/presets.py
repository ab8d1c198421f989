"""``python main.py presets``: list the scan and training presets."""

from __future__ import annotations

import json


def add_parser(sub) -> None:
    p = sub.add_parser("presets", help="list the scan and training presets")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def run(args) -> int:
    from explorer.core.presets import KINDS, list_presets, load_preset

    listing = {kind: list_presets(kind) for kind in KINDS}
    if args.json:
        print(json.dumps(listing))
        return 0
    for kind in KINDS:
        print(f"{kind} presets:")
        for name in listing[kind]:
            title = load_preset(kind, name).get("title", "")
            print(f"  {name:32s} {title}")
    return 0
