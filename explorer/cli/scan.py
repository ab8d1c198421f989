"""``python main.py scan NAME_OR_FILE [--json]``: run a scan preset or ScanSpec file."""


def add_parser(sub) -> None:
    p = sub.add_parser("scan", help="run a scan preset or ScanSpec .json file")
    p.add_argument("spec", help="scan preset name or ScanSpec .json file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def run(args) -> int:
    from explorer.core.errors import ConfigError, FieldProblem

    raise ConfigError(FieldProblem("command", "scan specs are not available yet"))
