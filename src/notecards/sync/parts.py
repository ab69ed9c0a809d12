"""Cut a sync plan into parts that a backend carries out one after the other.

A part holds whole files (a file's ID lines are written once, when all its cards are in Anki) and
at most `limit` notes to add, unless one file alone has more. Deletes go first, in a part of their
own. After each part the sync writes that part's ID lines and its state, so a failure in part k
keeps parts 1 to k-1 done and recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notecards.sync.plan import SyncPlan


@dataclass
class Part:
    plan: SyncPlan
    files: list[str] = field(default_factory=list)


def split_plan(plan: SyncPlan, files: list[str], limit: int | None) -> list[Part]:
    """The plan in parts of whole files (in vault order), each adding at most `limit` notes."""
    by_file: dict[str, SyncPlan] = {path: SyncPlan() for path in files}
    for a in plan.adds:
        by_file.setdefault(a.card.block.path, SyncPlan()).adds.append(a)
    for u in plan.updates:
        by_file.setdefault(u.card.block.path, SyncPlan()).updates.append(u)
    for nid, card in plan.unchanged:
        by_file.setdefault(card.block.path, SyncPlan()).unchanged.append((nid, card))
    parts = [Part(SyncPlan(deletes=list(plan.deletes)))] if plan.deletes else []
    current = Part(SyncPlan())
    for path, sub in by_file.items():
        adds = len(sub.adds) + sum(u.changes.note_type for u in sub.updates)
        pending = len(current.plan.adds) + sum(u.changes.note_type for u in current.plan.updates)
        if limit is not None and current.files and pending and pending + adds > limit:
            parts.append(current)
            current = Part(SyncPlan())
        current.files.append(path)
        current.plan.adds += sub.adds
        current.plan.updates += sub.updates
        current.plan.unchanged += sub.unchanged
    if current.files:
        parts.append(current)
    return parts
