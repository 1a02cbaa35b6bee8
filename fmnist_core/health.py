"""Whether a finished run learned anything: a run whose held-out loss never fell below its first epoch's
"finished", but did not train (an absurd learning rate, a dead network); the pages flag it."""

from __future__ import annotations

import math
from collections.abc import Sequence


def never_learned(history: Sequence[dict]) -> bool:
    """True when a run of two or more epochs never had a validation loss below its first epoch's."""
    losses = [r.get("val_loss") for r in history]
    finite = [v for v in losses if isinstance(v, (int, float)) and math.isfinite(v)]
    if len(history) < 2 or not finite or losses[0] is None or not math.isfinite(losses[0]):
        return False
    return min(finite[1:], default=math.inf) >= losses[0]


NEVER_LEARNED = "its validation loss never fell below epoch 1's: it did not learn (check the learning rate)"
