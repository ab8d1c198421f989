"""User-facing errors. Each names the user's thing (a field, an output, a sequence) and
says how to fix it; the GUI marks the field, the CLI prints the message and exits 2."""

from __future__ import annotations

from dataclasses import dataclass


class ExplorerError(ValueError):
    """Base class of errors caused by the user's input, not by a bug."""


class ScanError(ExplorerError):
    """A scan program that cannot run as written (wrong outputs, shapes, taps...)."""


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one field: ``field`` is a path such as ``outputs[1].expression``.

    ``column`` is the 1-based column inside the field's text, when the field is text.
    """

    field: str
    message: str
    column: int | None = None

    def __str__(self) -> str:
        where = f"{self.field}" + (f" (column {self.column})" if self.column else "")
        return f"{where}: {self.message}"


class ConfigError(ExplorerError):
    """One or more field problems found at once (validation reports every problem)."""

    def __init__(self, problems: list[FieldProblem] | FieldProblem):
        if isinstance(problems, FieldProblem):
            problems = [problems]
        self.problems: list[FieldProblem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def fields(self) -> list[str]:
        return [p.field for p in self.problems]
