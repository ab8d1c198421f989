"""``python main.py scan NAME_OR_FILE [--json]``: run a scan preset or ScanSpec file.

With ``--json`` prints one object: ``result`` (the value the source prints for that
example), ``outputs`` (every output by name, as nested lists), ``steps`` and
``signature``. Bad input exits with code 2 and a message naming the field.
"""

from __future__ import annotations

import json


def add_parser(sub) -> None:
    p = sub.add_parser("scan", help="run a scan preset or ScanSpec .json file")
    p.add_argument("spec", help="scan preset name (see `presets`) or ScanSpec .json file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    p.set_defaults(run=run)


def run(args) -> int:
    from explorer.core.presets import resolve

    data = resolve("scan", args.spec)  # a bad file is refused before torch is imported

    from explorer.core.lab.device import resolve_device
    from explorer.core.spec import ScanSpec, describe, run_spec, signature, to_jsonable

    device = resolve_device(args.device, field="--device")  # a device that exists, or exit 2 naming it
    spec = ScanSpec.from_dict(data)
    result = run_spec(spec, device=device)
    if args.json:
        print(json.dumps({
            "name": spec.title or args.spec,
            "signature": signature(spec),
            "steps": result.steps,
            "result": to_jsonable(result.result),
            "outputs": to_jsonable(result.outputs),
        }))
        return 0
    if spec.title:
        print(spec.title)
    for line in describe(spec):
        print("  " + line)
    print(f"  ran {result.steps} steps in {result.seconds * 1000:.1f} ms")
    for name, value in result.outputs.items():
        print(f"{name} =\n{_show(value)}")
    print(f"result =\n{_show(result.result)}")
    if spec.expected is not None:
        print(f"the source prints:\n{spec.expected}")
    return 0


def _show(value) -> str:
    import numpy as np

    if value is None:
        return "None"
    return np.array2string(value.detach().cpu().numpy(), precision=8, suppress_small=True)
