"""``python main.py export CONFIG_OR_RUN --script FILE.py``

Write an experiment (a training preset, a config .json / .toml, a checkpoint's config, or a
recorded run of the workspace, by id or name) as a
standalone PyTorch script: torch and numpy only, no ``explorer`` import. Run with
``--steps N`` it prints the same per-step losses as the app for that seed.
"""

from __future__ import annotations


def add_parser(sub) -> None:
    from explorer.cli.train import add_workspace_option

    p = sub.add_parser("export", help="write an experiment as a standalone PyTorch training script")
    p.add_argument("config", metavar="CONFIG_OR_RUN",
                   help="training preset name, config .json/.toml file, checkpoint (.safetensors / .pt), "
                   "or a recorded run (its id, the start of its id, or its name)")
    p.add_argument("--script", metavar="FILE.py", required=True, help="where to write the script")
    add_workspace_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from explorer.core.errors import ExplorerError
    from explorer.core.lab.config import ExperimentConfig
    from explorer.core.lab.export import write_script
    from explorer.core.lab.persistence import CHECKPOINT_SUFFIXES, load_checkpoint
    from explorer.core.presets import resolve

    if args.config.endswith(CHECKPOINT_SUFFIXES):
        config = load_checkpoint(args.config)[1]["config"]
    else:
        try:
            config = ExperimentConfig.from_dict(resolve("train", args.config))
        except ExplorerError as not_a_preset:  # a recorded run, by id or name?
            from explorer.core.runs import RunStore

            store = RunStore(getattr(args, "workspace", None))
            try:
                config = store.config(store.find(args.config))
            except ExplorerError:
                raise not_a_preset from None
    out = write_script(config, args.script)
    print(f"wrote {out}: python {out} --steps 100")
    return 0
