"""gc_policy: after a full collection its survivors are frozen, so the next full collections
walk only what is new (long ones held the GIL, and the window, for up to 235 ms)."""

import gc

from explorer.gui import gc_policy


def test_survivors_of_a_full_collection_are_frozen_and_new_cycles_still_collected():
    assert gc_policy._freeze_after_full not in gc.callbacks or gc_policy._installed
    gc_policy.install()
    gc_policy.install()  # idempotent
    try:
        assert gc.callbacks.count(gc_policy._freeze_after_full) == 1
        live = [[i] for i in range(50_000)]  # tracked and alive
        gc.collect()
        assert gc.get_freeze_count() >= len(live)
        gc.collect(1)  # a young collection freezes nothing new
        cycle = [[]]
        cycle[0].append(cycle)
        del cycle
        assert gc.collect() >= 2  # garbage made after the freeze is still found
    finally:
        gc.callbacks.remove(gc_policy._freeze_after_full)
        gc_policy._installed = False
        gc.unfreeze()
