"""``python main.py export CONFIG_OR_CHECKPOINT --script FILE.py``

Write an experiment (a training preset, a config .json or a checkpoint's config) as a
standalone PyTorch script: torch and numpy only, no ``explorer`` import. Run with
``--steps N`` it prints the same per-step losses as the app for that seed.
"""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="write an experiment as a standalone PyTorch training script")
    p.add_argument("config", metavar="CONFIG_OR_CHECKPOINT",
                   help="training preset name, config .json file, or checkpoint (.safetensors / .pt)")
    p.add_argument("--script", metavar="FILE.py", required=True, help="where to write the script")
    p.set_defaults(run=run)


def run(args) -> int:
    from pathlib import Path

    from explorer.core.errors import ExplorerError
    from explorer.core.lab.config import ExperimentConfig
    from explorer.core.lab.export import export_script
    from explorer.core.lab.persistence import CHECKPOINT_SUFFIXES, load_checkpoint
    from explorer.core.presets import resolve

    if args.config.endswith(CHECKPOINT_SUFFIXES):
        config = load_checkpoint(args.config)[1]["config"]
    else:
        config = ExperimentConfig.from_dict(resolve("train", args.config))
    out = Path(args.script)
    if out.is_dir():
        raise ExplorerError(f"--script {out} is a folder; give a file name such as {out / 'train.py'}")
    try:
        out.write_text(export_script(config), encoding="utf-8")
    except OSError as exc:
        raise ExplorerError(f"cannot write --script {out}: {exc.strerror or exc}") from None
    print(f"wrote {out}: python {out} --steps 100")
    return 0
