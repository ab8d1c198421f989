"""``python main.py runs [--workspace DIR] [--json]``: the recorded runs, newest first.

    runs --compare ID ID ...       the config fields that differ (from the first) and the final metrics
    runs --tensorboard DIR [ID ..] the runs (default all) as TensorBoard event files
    runs --rename ID NAME          runs --delete ID [ID ...]

An ID may be a run's id, a unique start of one, or a unique name. No torch is loaded except
for --tensorboard.
"""

from __future__ import annotations

import json
import time

from explorer.cli.train import add_workspace_option, strict


def add_parser(sub) -> None:
    p = sub.add_parser("runs", help="list, compare, rename, delete or export recorded runs")
    p.add_argument("ids", nargs="*", metavar="ID", help="runs to list or export (default: all)")
    add_workspace_option(p)
    p.add_argument("--compare", nargs="+", metavar="ID", help="show the config fields that differ and the final "
                   "metrics of these runs (the first is the baseline)")
    p.add_argument("--tensorboard", metavar="DIR", help="write the runs as TensorBoard event files in DIR")
    p.add_argument("--rename", nargs=2, metavar=("ID", "NAME"), help="give a run a name")
    p.add_argument("--delete", nargs="+", metavar="ID", help="delete runs (refused while one is being written)")
    p.add_argument("--json", action="store_true", help="print one JSON value")
    p.set_defaults(run=run)


COLUMNS = (("id", 20), ("name", 16), ("status", 9), ("steps", 13), ("final held-out", 14),
           ("best held-out", 13), ("steps/s", 8), ("duration", 9))


def run(args) -> int:
    from explorer.core.runs import RunStore

    store = RunStore(getattr(args, "workspace", None))
    if args.rename:
        record = store.rename(store.find(args.rename[0]), args.rename[1])
        return _say(args, {"renamed": record.id, "name": record.name}, f"run {record.id} is now {record.name!r}")
    if args.delete:
        ids = [store.find(i) for i in args.delete]  # every name checked before anything is deleted
        for rid in ids:
            store.delete(rid)
        return _say(args, {"deleted": ids}, "\n".join(f"deleted {rid}" for rid in ids))
    if args.compare:
        return _compare(args, store, [store.find(i) for i in args.compare])
    ids = [store.find(i) for i in args.ids] if args.ids else None
    if args.tensorboard:
        from explorer.core.runs.tensorboard import export_tensorboard

        ids = ids if ids is not None else [r.id for r in store.list()]
        folders = export_tensorboard(store, ids, args.tensorboard)
        return _say(args, {"tensorboard": args.tensorboard, "runs": ids},
                    f"wrote {len(folders)} run(s) to {args.tensorboard}; view with: tensorboard --logdir "
                    f"{args.tensorboard}")
    records = store.list() if ids is None else [store.get(i) for i in ids]
    if args.json:
        print(json.dumps([_as_json(r) for r in records], allow_nan=False))
        return 0
    if not records:
        print(f"no runs in {store.workspace} yet: `python main.py train NAME` records one")
        return 0
    print(_table([h for h, _ in COLUMNS], [_row(r) for r in records], [w for _, w in COLUMNS]))
    return 0


def _compare(args, store, ids: list[str]) -> int:
    from explorer.core.runs import config_diff
    from explorer.core.runs.compare import flatten

    records = [store.get(i) for i in ids]
    base = records[0]
    fields: list[str] = []
    for r in records[1:]:
        fields += [k for k in config_diff(base.config, r.config) if k not in fields]
    flats = [flatten(r.config) for r in records]
    finals = ("status", "steps", "final_loss", "final_heldout", "best_heldout", "steps_per_s", "duration_s")
    if args.json:
        print(json.dumps(strict({"runs": ids, "fields": {f: [fl.get(f) for fl in flats] for f in fields},
                                 "final": {k: [getattr(r, k) for r in records] for k in finals}}), allow_nan=False))
        return 0
    header = ["", *(r.label for r in records)]
    rows = [[f, *(_cell(fl.get(f)) for fl in flats)] for f in fields] or [["(same config)", *[""] * len(records)]]
    rows.append(["---"] * len(header))
    rows += [[k, *(_cell(getattr(r, k)) for r in records)] for k in finals]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(_table(header, rows, widths))
    return 0


def _row(r) -> list[str]:
    steps = f"{r.steps:,}" + (f"/{r.total_steps:,}" if r.total_steps else "")
    return [r.id, r.name or "-", r.status, steps, _cell(r.final_heldout), _cell(r.best_heldout),
            "-" if r.steps_per_s is None else f"{r.steps_per_s:,.0f}", _duration(r.duration_s)]


def _table(header, rows, widths) -> str:
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths)).rstrip()]
    for row in rows:
        lines.append("  ".join(str(c)[:max(w, 3)].ljust(w) if c != "---" else "-" * w
                               for c, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _duration(seconds) -> str:
    if not seconds:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, s = divmod(int(seconds), 60)
    return f"{minutes} min {s} s" if minutes < 60 else time.strftime("%H h %M min", time.gmtime(seconds))


def _as_json(r) -> dict:
    out = strict(r.to_json())
    out["path"] = str(r.path)
    return out


def _say(args, data: dict, text: str) -> int:
    print(json.dumps(data) if args.json else text)
    return 0
