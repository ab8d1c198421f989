"""The expression compiler touches no process-wide state: compiling and evaluating from
several threads at once leaves the warnings filter as it was (issue 9, item 5)."""

import sys
import threading
import warnings

import pytest
import torch

from explorer.core.expr import ExpressionError, compile_expression

# Texts that make Python's tokenizer warn (or used to make the compiler touch the filter):
# the sloppy ones must stay errors, and none may print a warning.
SLOPPY = ["1if x else 2", "0x1for", "1jif 1 else 2", '"\\d" + 1', "1or 2", "x = 1", "1 +"]
GOOD = ["tanh(x @ W + 1)", "sum(x * 2.0) / 3", "where(x > 0, x, -x)[0]", "-(1 + 2) ** 2"]


def _work(errors: list, rounds: int) -> None:
    x, w = torch.ones(3), torch.eye(3)
    try:
        for _ in range(rounds):
            for text in SLOPPY:
                try:
                    compile_expression(text)
                except ExpressionError:
                    pass
                else:
                    errors.append(f"{text!r} compiled")
            for text in GOOD:
                compile_expression(text)({"x": x, "W": w})
    except Exception as exc:  # noqa: BLE001 - reported by the test
        errors.append(repr(exc))


def test_four_threads_leave_the_warnings_filter_alone():
    before = list(warnings.filters)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show
    errors: list = []
    seen: list = []
    stop = threading.Event()

    def watch():  # the filter list must never even be swapped while others compile
        while not stop.is_set():
            if warnings.filters != before:
                seen.append(list(warnings.filters))
                return

    try:
        watcher = threading.Thread(target=watch)
        workers = [threading.Thread(target=_work, args=(errors, 30)) for _ in range(4)]
        watcher.start()
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        stop.set()
        watcher.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors[:3]
    assert warnings.filters == before
    assert not seen, f"the warnings filter changed while compiling: {seen[0][:2]}"
    with pytest.warns(UserWarning):  # a normal warning is still a warning, not an exception
        warnings.warn("still a warning", UserWarning, stacklevel=1)


@pytest.mark.parametrize("text, fragment", [
    ("1if x else 2", "invalid decimal literal: put a space between '1' and 'if'"),
    ("0x1for", "invalid hexadecimal literal"),
    ("1jif 1 else 2", "invalid imaginary literal"),
    ('"\\d" + 1', "strings are not allowed"),
])
def test_sloppy_text_is_an_error_and_prints_no_warning(text, fragment):
    with warnings.catch_warnings(record=True) as caught:  # one thread: safe here
        warnings.simplefilter("always")
        with pytest.raises(ExpressionError) as info:
            compile_expression(text)
    assert fragment in info.value.message
    assert info.value.column is not None
    assert not caught, [str(w.message) for w in caught]
