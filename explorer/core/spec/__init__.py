"""ScanSpec: a scan program as JSON-serialisable text fields (what the scan form edits).

    spec = ScanSpec.from_dict(load_preset("scan", "fibonacci"))
    problems = check(spec)            # every problem, each on its field
    run = run_spec(spec)              # outputs by name + the result the source prints
    signature(spec)                   # "fn(f[t-2], f[t-1])"
"""

from .model import ArraySpec, NonSequenceSpec, OutputSpec, ScanSpec, SequenceSpec, StepVariable
from .run import Cancelled, ScanRun, check, run_spec, to_jsonable
from .signature import argument_labels, describe, signature, unroll
from .steps import Source, sequence_lengths, sources, step_count
from .validate import validate

__all__ = [
    "ArraySpec", "NonSequenceSpec", "OutputSpec", "ScanSpec", "SequenceSpec", "StepVariable",
    "Cancelled", "ScanRun", "check", "run_spec", "to_jsonable",
    "argument_labels", "describe", "signature", "unroll", "validate",
    "Source", "sequence_lengths", "sources", "step_count",
]
