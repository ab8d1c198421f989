"""Theano's own spelling of scan: ``results, updates = theano.scan(...)`` runs unchanged.

    from explorer import theano

    results, updates = theano.scan(lambda v: torch.tanh(v @ W + b), sequences=X)

``explorer.scan`` returns the outputs alone (one tensor, or a list for several), as the design
notes and the workbench use it. Theano's ``scan`` returns ``(outputs, updates)``, and code
written for it unpacks two values: with ``explorer.scan`` that line would unpack the stacked
outputs instead (an error, or for a scan of exactly two steps two silently wrong halves).
This module's ``scan`` is ``explorer.scan`` with Theano's return: the same outputs and an
empty ``OrderedDict`` of updates (there are no shared variables; a step that returns a
non-empty updates dict is refused with what to do instead). ``until`` is the same.
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["scan", "until"]


def scan(*args, **kwargs):
    """``explorer.scan(*args, **kwargs)`` as Theano returns it: ``(outputs, OrderedDict())``."""
    from explorer.core.theano_scan import scan as outputs_of

    return outputs_of(*args, **kwargs), OrderedDict()


def until(condition):
    """Stop after the step where ``condition`` holds (Theano's ``theano.scan_module.until``)."""
    from explorer.core.theano_scan import until as stop

    return stop(condition)
