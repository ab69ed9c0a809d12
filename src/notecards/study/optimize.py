"""Fit the FSRS parameters to one person's own reviews ("Optimize", as in Anki's deck options).

FSRS's default parameters are fitted to many people; once a history holds enough reviews (about
1,000), parameters fitted to this person predict their recall better. The fit is Anki's own
optimizer, fsrs-rs (the `fsrs-rs-python` package: Rust, no torch), on training items built as
Anki builds them from its review log: per card, from its first answer (or the answer after its
last reset), each later answer on another day is one item holding every answer until then, with
the gaps counted in study days (the day starts at `day_start_hour`).

The fitted parameters are kept only when they predict these reviews better than the ones in use —
a lower log loss and an RMSE no higher — and are then saved as `[study] parameters` in
`notecards.toml`, so every device schedules alike. Saving changes that key alone: every other
byte of the file stays as it was.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from notecards.atomic import write_atomic
from notecards.study.events import Event
from notecards.study.settings import CONFIG_FILE

MIN_REVIEWS = 1000      # FSRS's guidance: fewer, and the fit follows noise


class NotEnoughReviews(Exception):
    """The history is too short to fit parameters to."""


@dataclass(frozen=True)
class Fit:
    """How well a set of parameters predicts the reviews: log loss and RMSE (bins), lower better."""

    log_loss: float
    rmse: float

    def better_than(self, other: "Fit") -> bool:
        return self.log_loss < other.log_loss and self.rmse <= other.rmse


@dataclass
class OptimizeResult:
    reviews: int                       # answers that made training items
    items: int                         # training items (an answer with the history before it)
    before: Fit                        # the parameters in use
    after: Fit                         # the fitted ones
    parameters: list[float] = field(default_factory=list)     # the fitted ones
    kept: bool = False                 # better, and saved (or would be, with save=False)
    saved: bool = False

    def to_dict(self) -> dict:
        return dict(vars(self), before=vars(self.before), after=vars(self.after))


def training_items(histories: list[list[Event]], tz: tzinfo, day_start_hour: int) -> tuple[list, int]:
    """fsrs-rs training items from each card's events (history order, undone ones left out),
    and the number of answers they use."""
    from fsrs_rs_python import FSRSItem, FSRSReview

    items, used = [], 0
    for events in histories:
        answers: list[Event] = []
        for event in events:
            if event.type == "reset":
                answers = []
            elif event.type == "review":
                answers.append(event)
        reviews, last_day = [], None
        for answer in answers:
            day = _study_day(answer.time, tz, day_start_hour)
            reviews.append(FSRSReview(answer.rating, 0 if last_day is None else day - last_day))
            if last_day is not None and day > last_day:
                items.append(FSRSItem(list(reviews)))
            last_day = day
        if len(reviews) > 1:
            used += len(reviews)
    return items, used


def _study_day(moment: datetime, tz: tzinfo, hour: int) -> int:
    return (moment.astimezone(tz) - timedelta(hours=hour)).date().toordinal()


def card_histories(study) -> list[list[Event]]:
    """Every card's events in history order, undone events left out, as the replay applies them."""
    by_card: dict[tuple[str, int], list[Event]] = defaultdict(list)
    events = [Event.from_dict(json.loads(line)) for (line,) in study.replay.store.db.execute(
        "select line from events where kind != 'alias'")]
    undone = {e.undoes for e in events if e.type == "undo"}
    for event in events:
        if event.type != "undo" and event.id not in undone:
            by_card[(study.replay.alias.get(event.guid, event.guid), event.ord)].append(event)
    return [sorted(evs, key=Event.sort_key) for _, evs in sorted(by_card.items())]


def optimize_parameters(vault: Path, *, save: bool = True, device: str | None = None) -> OptimizeResult:
    """Fit parameters to the vault's history; save them when they are better (and `save`).
    NotEnoughReviews when the history is too short."""
    from fsrs import Scheduler
    from fsrs_rs_python import FSRS

    from notecards.study.engine import Study

    study = Study.open(Path(vault), device=device, simulate=False)
    try:
        items, used = training_items(card_histories(study), study.tz, study.study_settings.day_start_hour)
        current = list(study.study_settings.parameters) or list(Scheduler().parameters)
    finally:
        study.close()
    if used < MIN_REVIEWS:
        raise NotEnoughReviews(f"{used} reviews can be used to fit parameters; FSRS needs about {MIN_REVIEWS}")
    fitted = [round(float(w), 4) for w in FSRS(current).compute_parameters(items)]
    result = OptimizeResult(reviews=used, items=len(items), before=evaluate(current, items),
                            after=evaluate(fitted, items), parameters=fitted)
    result.kept = result.after.better_than(result.before)
    if result.kept and save:
        save_parameters(Path(vault), fitted)
        result.saved = True
    return result


def evaluate(parameters: list[float], items: list) -> Fit:
    from fsrs_rs_python import FSRS

    evaluation = FSRS(parameters).evaluate(items)
    return Fit(float(evaluation.log_loss), float(evaluation.rmse_bins))


# --- notecards.toml: the one key, every other byte kept

_HEADER = re.compile(r"^[ \t]*\[[ \t]*([^\[\]]+?)[ \t]*\][ \t]*(#.*)?$", re.M)
_KEY = re.compile(r"^[ \t]*parameters[ \t]*=[ \t]*", re.M)


def save_parameters(vault: Path, parameters: list[float]) -> None:
    """Write `[study] parameters = [...]` into the vault's notecards.toml, changing nothing else;
    ValueError (and nothing written) when the file cannot be edited safely."""
    path = vault / CONFIG_FILE
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    new = with_parameters(text, parameters)
    after = tomllib.loads(new)
    if after.get("study", {}).get("parameters") != parameters or _without_parameters(after) != \
            _without_parameters(tomllib.loads(text)):
        raise ValueError(f"{CONFIG_FILE}: the [study] table cannot be edited safely; "
                         f"add parameters = {_array(parameters)} under [study] yourself")
    write_atomic(path, new.encode("utf-8"))


def _without_parameters(settings: dict) -> dict:
    study = {k: v for k, v in settings.get("study", {}).items() if k != "parameters"}
    return {**settings, "study": study}


def with_parameters(text: str, parameters: list[float]) -> str:
    """`text` with the `[study]` table's `parameters` set: the old value replaced in place, or a
    line added under the table's header, or a `[study]` table added at the end."""
    line = f"parameters = {_array(parameters)}"
    headers = list(_HEADER.finditer(text))
    study = next((h for h in headers if h.group(1) == "study"), None)
    if study is None:
        sep = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        return f"{text}{sep}[study]\n{line}\n"
    end = next((h.start() for h in headers if h.start() > study.end()), len(text))
    key = _KEY.search(text, study.end(), end)
    if key is None:                   # right under the header: before its newline
        return text[:study.end()] + "\n" + line + text[study.end():]
    indent = re.match(r"[ \t]*", text[key.start():]).group(0)
    return text[:key.start()] + indent + line + text[_array_end(text, key.end()):]


def _array_end(text: str, start: int) -> int:
    """Where the array value starting at `start` ends (after its `]`)."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "[":
            depth += 1
        elif text[i] == "]":
            depth -= 1
            if depth == 0:
                return i + 1
    raise ValueError("unterminated array")


def _array(parameters: list[float]) -> str:
    return "[" + ", ".join(repr(float(w)) if math.isfinite(w) else "0.0" for w in parameters) + "]"
