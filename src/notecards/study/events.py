"""History events: what a person did while studying, one JSON object per line.

    {"id": "laptop:41", "type": "review", "time": "2026-12-01T15:30:00.125Z",
     "guid": "-h=f{HX*am", "ord": 1, "rating": 3, "ms": 5300}

`id` is the writing device and its own sequence number, unique across devices, so the history
of several devices is the set union of their files. Types: review (rating 1-4 = Again, Hard,
Good, Easy; `ms` the time spent), suspend, unsuspend, bury (until the next day), reset (back to
new), set_due (`due`: when a studied card is next due, as the browser's "set due" chose),
undo (`undoes` names the event id it cancels), and alias (`to`: the GUID the card `guid`
is known by since sync wrote its ID line; see docs/history.md). A card is its note's GUID plus
the template ordinal `ord` (the cloze number for cloze notes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

KINDS = ("review", "suspend", "unsuspend", "bury", "reset", "set_due", "undo", "alias")
CARD_KINDS = ("review", "suspend", "unsuspend", "bury", "reset", "set_due")
FUTURE_SLACK = timedelta(minutes=5)     # clocks of two devices differ a little


class BadEvent(ValueError):
    """A line that is not an event notecards can use; the message says why."""


def card_id(guid: str, ordinal: int) -> str:
    """The study card id: URL-safe (GUIDs hold characters such as `{`, `%` and `#`), reversible."""
    return f"{guid.encode('utf-8').hex()}-{ordinal}"


def split_card_id(cid: str) -> tuple[str, int]:
    """(guid, ordinal) of a study card id; ValueError when it is not one."""
    hexpart, _, ordinal = cid.rpartition("-")
    return bytes.fromhex(hexpart).decode("utf-8"), int(ordinal)


def format_time(moment: datetime) -> str:
    """UTC with milliseconds and a Z: sortable as text, readable, the same on every device."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    time: datetime
    guid: str = ""
    ord: int = 0
    rating: int | None = None
    ms: int | None = None
    undoes: str | None = None
    to: str | None = None
    due: datetime | None = None
    device: str = field(default="", repr=False, compare=False)   # both from `id`: every sort asks
    seq: int = field(default=-1, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.seq < 0:
            device, _, seq = self.id.rpartition(":")
            object.__setattr__(self, "device", device)
            object.__setattr__(self, "seq", int(seq))

    @property
    def card(self) -> str:
        return card_id(self.guid, self.ord)

    def sort_key(self) -> tuple[datetime, str, int]:
        """History order: by time, ties broken by device and sequence — the same on every device."""
        return (self.time, self.device, self.seq)

    def to_dict(self) -> dict:
        out: dict = {"id": self.id, "type": self.type, "time": format_time(self.time)}
        if self.type in CARD_KINDS or self.type in ("undo", "alias"):
            out["guid"] = self.guid
        if self.type in CARD_KINDS or self.type == "undo":
            out["ord"] = self.ord
        for key in ("rating", "ms", "undoes", "to"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.due is not None:
            out["due"] = format_time(self.due)
        return out

    def to_line(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"

    @classmethod
    def from_dict(cls, data: object, now: datetime | None = None) -> "Event":
        """Validate one parsed line; BadEvent with the reason when it cannot be used."""
        if not isinstance(data, dict):
            raise BadEvent("not a JSON object")
        kind = data.get("type")
        if kind not in KINDS:
            raise BadEvent(f"unknown event type {kind!r}")
        eid = data.get("id")
        device, _, seq = eid.rpartition(":") if isinstance(eid, str) else ("", "", "")
        if not device or not seq.isdigit():
            raise BadEvent(f"event id must be DEVICE:NUMBER, not {eid!r}")
        moment = _time(data.get("time"))
        if now is not None and moment > now + FUTURE_SLACK:
            raise BadEvent(f"time {data.get('time')} is in the future")
        guid = data.get("guid")
        if not isinstance(guid, str) or not guid:
            raise BadEvent(f"{kind} event without a card guid")
        ordinal = data.get("ord", 0)
        if kind != "alias" and (not isinstance(ordinal, int) or isinstance(ordinal, bool) or ordinal < 1):
            raise BadEvent(f"card ordinal must be a positive integer, not {ordinal!r}")
        event = cls(id=eid, type=kind, time=moment, guid=guid, ord=ordinal if kind != "alias" else 0,
                    rating=data.get("rating"), ms=data.get("ms"), undoes=data.get("undoes"), to=data.get("to"),
                    due=_time(data["due"]) if kind == "set_due" and "due" in data else None,
                    device=device, seq=int(seq))
        _check_kind(event)
        return event


def _time(value: object) -> datetime:
    if not isinstance(value, str):
        raise BadEvent(f"time must be an ISO date and time, not {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadEvent(f"time must be an ISO date and time, not {value!r}") from None
    if moment.tzinfo is None:
        raise BadEvent(f"time {value} has no time zone")
    return moment.astimezone(timezone.utc)


def _check_kind(event: Event) -> None:
    if event.type == "review":
        if event.rating not in (1, 2, 3, 4) or isinstance(event.rating, bool):
            raise BadEvent(f"rating must be 1, 2, 3 or 4, not {event.rating!r}")
        if event.ms is not None and (not isinstance(event.ms, int) or event.ms < 0):
            raise BadEvent(f"ms must be a non-negative integer, not {event.ms!r}")
    if event.type == "undo" and not isinstance(event.undoes, str):
        raise BadEvent("undo event without the id of the event it undoes")
    if event.type == "set_due" and event.due is None:
        raise BadEvent("set_due event without the time the card is due")
    if event.type == "alias" and (not isinstance(event.to, str) or not event.to):
        raise BadEvent("alias event without the guid it points to")
