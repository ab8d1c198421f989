"""``python main.py train NAME_OR_FILE``: train headless (the RNN lab issue fills this in)."""


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model from a preset or config file")
    p.add_argument("config", help="training preset name or config .json file")
    p.set_defaults(run=run)


def run(args) -> int:
    from explorer.core.errors import ConfigError, FieldProblem

    raise ConfigError(FieldProblem("command", "training is not available yet"))
