"""Numerics that say nothing on stderr: numpy's and scipy's RuntimeWarnings (overflow, 0/0) never
reach the user's terminal. What matters of them is told as a diagnostic at the statement's line
(draws that are not finite, a check without a value); the warning itself would only be noise
without a line number."""

from __future__ import annotations

import contextlib
import warnings
from typing import Iterator


@contextlib.contextmanager
def quiet_numerics() -> Iterator[None]:
    import numpy as np  # here: a run without a model never loads numpy

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
