"""Defence in depth: an exception of ours while one file is processed becomes one error on that
file ("internal error: … — please report it") and the rest of the vault goes on.

`inject_fault` lets a test prove that on a real run: with `NOTECARDS_INJECT_FAULT=STAGE:PATH`
(e.g. `render:notes/b.md`) in the environment, that stage raises for that vault-relative path.
Nothing else reads the variable; unset, the check is one dictionary lookup.
"""

from __future__ import annotations

import os

from notecards.types import Diagnostic

FAULT_VARIABLE = "NOTECARDS_INJECT_FAULT"


class InjectedFault(RuntimeError):
    """The failure a test asked for."""


def inject_fault(stage: str, path: str) -> None:
    if os.environ.get(FAULT_VARIABLE) == f"{stage}:{path}":
        raise InjectedFault(f"fault injected into {stage} of {path}")


INTERNAL = "internal error"


def internal_error(path: str, doing: str, exc: BaseException) -> Diagnostic:
    return Diagnostic(path, 1, "error", f"{INTERNAL} while {doing} this file: {type(exc).__name__}: "
                                        f"{exc} — please report it; the rest of the vault was processed")


def is_internal_error(d: Diagnostic) -> bool:
    """Such a file is not cached: the next run tries it again."""
    return d.severity == "error" and d.message.startswith(INTERNAL)
