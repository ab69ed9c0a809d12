"""The study web app: the page, its static files, the cards' media and a small JSON API.

Every route here sits behind `security.Guard` (token, Host, Origin, security headers), so the
routes are written without the token. Every engine call runs on the event loop's own thread, one
at a time: the engine keeps an SQLite connection, which belongs to the thread that opened it (the
command opens the engine on the thread that then runs uvicorn), and a person answers one card at a
time anyway. Static files and media need no engine call beyond a dictionary look-up.

The API, all JSON (`Cache-Control: no-store`):

- `GET  api/state`            the vault, whether reviews can be saved, the deck the run started on
- `GET  api/next?deck=`       refresh from disk, then the next card (with its intervals) and the counts;
                              `card: null` and the session summary when nothing is left
- `GET  api/decks`            every deck's new / learning / review counts
- `GET  api/summary?deck=`    cards studied, time, again-rate, due tomorrow
- `POST api/answer`           `{card_id, rating: 1-4, duration_ms}` -> `{saved, leech, interval}`;
                              409 `{reason: "read-only"}` when the history cannot be written
- `POST api/undo`             -> `{undone: card_id | null}`
- `POST api/suspend`, `api/unsuspend`, `api/bury`   `{card_id}`
- `GET  api/sliders?card_id=` a model card's sliders (`study.sliders`), or why it has none
- `POST api/redraw`           `{card_id, values: {name: number}}` -> the card's simulation HTML at them
- `GET  api/stats?deck=`      the stats page's numbers (`study.stats`) and its charts as SVG
- `GET  api/browse?q=`        the cards matching a search (`study.browse`), at most 200, and the total
- `GET  api/card?card_id=`    a card's info: history, stability, difficulty, retrievability, source
- `POST api/reset`            `{card_id}`: the card becomes new (its history stays)
- `POST api/set_due`          `{card_id, days}`: a studied card is due at the start of that day (0: now)
"""

from __future__ import annotations

import math
import mimetypes
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from notecards.export_state import STATE_DIR
from notecards.models.card import SimOptions
from notecards.pipeline import sims_folder
from notecards.study.engine import HistoryReadOnly, Study, StudyCard
from notecards.study.security import Address, Guard, inside, safe_file
from notecards.study.browse import BadQuery, Browser
from notecards.study.charts import charts
from notecards.study.sliders import CardSliders, Figures, redraw, sliders_of
from notecards.study.stats import AnswerLog, compute
from notecards.types import Diagnostic

STATIC = Path(str(resources.files("notecards.study") / "static"))
CARD_CSS = Path(str(resources.files("notecards") / "card.css"))
RATINGS = (1, 2, 3, 4)
NO_STORE = {"Cache-Control": "no-store"}

mimetypes.add_type("font/woff2", ".woff2")
mimetypes.add_type("text/javascript", ".js")


class Refused(ValueError):
    """A request the engine turned down for a reason the person can act on (a 400)."""


class StudyService:
    """The engine's answers as the JSON the page reads."""

    def __init__(self, study: Study, vault: Path, *, vault_name: str, deck: str | None = None,
                 on_diagnostics: Callable[[list[Diagnostic]], None] | None = None,
                 on_error: Callable[[str], None] | None = None) -> None:
        self.study = study
        self.vault = vault
        self.vault_name = vault_name
        self.deck = deck
        self.on_diagnostics = on_diagnostics or (lambda _d: None)
        self.on_error = on_error or (lambda _m: None)
        self.reported = set(study.diagnostics)      # the command printed these at start
        self.figures = Figures()
        self.answers = AnswerLog(study.tz, study.study_settings.day_start_hour)
        self.answers.prepare(study.replay.store.db, study.replay.alias)     # ready for the stats page
        self.browser = Browser(study)
        self._sliders: dict[tuple[str, str], CardSliders] = {}

    def state(self) -> dict:
        return {"vault": self.vault_name, "deck": self.deck, "writable": self.study.writable,
                "read_only_reason": self.study.read_only_reason}

    def next(self, deck: str | None) -> dict:
        """Re-read what changed on disk, then the card to show and what is left."""
        self._report(self.study.refresh())
        card = self.study.next_card(deck)
        payload = {"deck": deck, "counts": self._counts(deck), "card": self._card(card) if card else None}
        if card is None:
            payload["summary"] = self.study.summary(deck).to_dict()
        return payload

    def decks(self) -> dict:
        rows = [d.to_dict() for d in self.study.decks()]
        return {"decks": rows}

    def summary(self, deck: str | None) -> dict:
        return self.study.summary(deck).to_dict()

    def answer(self, card_id: str, rating: int, duration_ms: int) -> dict:
        result = self.study.answer(card_id, rating, duration_ms)
        return {"saved": True, "leech": result.leech, "interval": result.interval}

    def undo(self) -> dict:
        return {"undone": self.study.undo()}

    def act(self, action: str, card_id: str) -> dict:
        getattr(self.study, action)(card_id)
        return {"done": action, "card_id": card_id}

    def sliders(self, card_id: str) -> dict:
        """A model card's sliders (kept per card and content: the model is parsed once)."""
        if not self.study.simulate:
            return CardSliders(reason="simulations are off (--no-sim)").to_dict()
        card = self._note(card_id)
        key = (card_id, card.content_hash)
        if key not in self._sliders:
            self._sliders[key] = sliders_of(card, self._note_text(card))
        return self._sliders[key].to_dict()

    def redraw(self, card_id: str, values: dict[str, float]) -> dict:
        """The card's simulation at `values`; its figures are then served under media/."""
        card = self._note(card_id)
        drawn = redraw(card, self._note_text(card), sims_folder(self.vault), values,
                       SimOptions(store=_writable(self.vault / STATE_DIR)))
        self.figures.keep(drawn.figures)
        return drawn.to_dict()

    def stats(self, deck: str | None) -> dict:
        """The stats of a deck or the whole vault, with their charts and the decks to choose."""
        self._report(self.study.refresh())
        numbers = compute(self.study, deck, self.answers)
        return {"stats": numbers.to_dict(), "charts": charts(numbers),
                "decks": sorted(d.name for d in self.study.decks())}

    def browse(self, query: str) -> dict:
        self._report(self.study.refresh())
        rows, total = self.browser.search(query)
        return {"rows": [r.to_dict() for r in rows], "total": total}

    def set_due(self, card_id: str, days: int) -> dict:
        try:
            self.study.set_due(card_id, days)
        except ValueError as exc:
            raise Refused(str(exc)) from None
        return {"done": "set_due", "card_id": card_id}

    def card_info(self, card_id: str) -> dict:
        if card_id not in self.study.faces:
            raise KeyError(card_id)
        info = self.browser.info(card_id).to_dict()
        info["obsidian_url"] = obsidian_url(self.vault_name, info["card"]["path"])
        return info

    def media(self, name: str) -> Response | None:
        found = self.study.media(name)
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if found is None:
            drawn = self.figures.get(name)          # a figure a slider redrew
            return Response(drawn, media_type=kind) if drawn is not None else None
        if found.data is not None:
            return Response(found.data, media_type=kind)
        if found.path is not None and inside(self.vault, found.path):
            return FileResponse(found.path, media_type=kind)
        return None

    def _note(self, card_id: str):
        face = self.study.faces.get(card_id)
        if face is None or face.note is None:
            raise KeyError(card_id)
        return face.note

    def _note_text(self, card) -> str:
        return (self.vault / card.block.path).read_text(encoding="utf-8")

    def _report(self, diagnostics: list[Diagnostic]) -> None:
        """Pass on the problems an edit brought (refresh returns all of them, old ones too)."""
        fresh = [d for d in diagnostics if d not in self.reported]
        self.reported = set(diagnostics)
        if fresh:
            self.on_diagnostics(fresh)

    def _card(self, card: StudyCard) -> dict:
        data = card.to_dict()
        data["intervals"] = {str(k): v for k, v in self.study.intervals(card.id).items()}
        data["obsidian_url"] = obsidian_url(self.vault_name, card.path)
        return data

    def _counts(self, deck: str | None) -> dict:
        """What is left in `deck` (a parent deck's counts include its subdecks), or in them all."""
        rows = [d for d in self.study.decks() if (d.name == deck if deck else "::" not in d.name)]
        return {key: sum(getattr(d, key) for d in rows) for key in ("new", "learning", "review")}


def obsidian_url(vault_name: str, path: str) -> str:
    """The `obsidian://open` link to a note (Obsidian names `.md` notes without their extension)."""
    file = path[:-3] if path.endswith(".md") else path
    return f"obsidian://open?vault={quote(vault_name, safe='')}&file={quote(file, safe='')}"


def _writable(folder: Path) -> bool:
    """Whether the simulation cache may be written (a read-only vault redraws without keeping)."""
    return os.access(folder if folder.exists() else folder.parent, os.W_OK)


def create_app(service: StudyService, address: Address) -> Guard:
    """The guarded ASGI app for one run of the server."""

    async def page(_request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=NO_STORE)

    async def static(request: Request) -> Response:
        path = safe_file(STATIC, request.path_params["path"])
        return FileResponse(path) if path else _not_found()

    async def card_css(_request: Request) -> Response:
        return FileResponse(CARD_CSS, media_type="text/css")

    async def media(request: Request) -> Response:
        return service.media(request.path_params["name"]) or _not_found()

    async def state(_request: Request) -> Response:
        return engine(service.state)

    async def next_card(request: Request) -> Response:
        return engine(service.next, request.query_params.get("deck") or None)

    async def decks(_request: Request) -> Response:
        return engine(service.decks)

    async def summary(request: Request) -> Response:
        return engine(service.summary, request.query_params.get("deck") or None)

    async def answer(request: Request) -> Response:
        body = await _body(request)
        card_id, rating = body.get("card_id"), body.get("rating")
        if not isinstance(card_id, str) or rating not in RATINGS or isinstance(rating, bool):
            return _error(400, "send {card_id, rating: 1-4}")
        duration = body.get("duration_ms", 0)
        duration = int(duration) if isinstance(duration, (int, float)) and duration >= 0 else 0
        return engine(service.answer, card_id, rating, duration)

    async def undo(_request: Request) -> Response:
        return engine(service.undo)

    async def sliders(request: Request) -> Response:
        return engine(service.sliders, request.query_params.get("card_id", ""))

    async def redraw_card(request: Request) -> Response:
        body = await _body(request)
        card_id, values = body.get("card_id"), body.get("values")
        if not isinstance(card_id, str) or not isinstance(values, dict) or not all(
                isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for k, v in values.items()):
            return _error(400, "send {card_id, values: {name: number}}")
        return engine(service.redraw, card_id, {k: float(v) for k, v in values.items()})

    async def browse(request: Request) -> Response:
        return engine(service.browse, request.query_params.get("q", ""))

    async def card_info(request: Request) -> Response:
        return engine(service.card_info, request.query_params.get("card_id", ""))

    async def set_due(request: Request) -> Response:
        body = await _body(request)
        card_id, days = body.get("card_id"), body.get("days")
        if not isinstance(card_id, str) or not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 36500:
            return _error(400, "send {card_id, days: 0-36500}")
        return engine(service.set_due, card_id, days)

    async def stats(request: Request) -> Response:
        return engine(service.stats, request.query_params.get("deck") or None)

    def action(name: str):
        async def endpoint(request: Request) -> Response:
            card_id = (await _body(request)).get("card_id")
            if not isinstance(card_id, str):
                return _error(400, "send {card_id}")
            return engine(service.act, name, card_id)
        return endpoint

    def engine(call, *args) -> Response:
        """An engine call's JSON; its known refusals become JSON errors, anything else a 500 the
        command reports in one line (never a traceback in the terminal)."""
        try:
            return _json(call(*args))
        except HistoryReadOnly as exc:
            return _error(409, f"not saved: {exc}", reason="read-only")
        except KeyError:
            return _error(404, "no such card (the vault changed: reload the page)")
        except (BadQuery, Refused) as exc:
            return _error(400, str(exc))
        except Exception as exc:        # noqa: BLE001 - the server must keep serving the session
            service.on_error(f"{type(exc).__name__}: {exc}")
            return _error(500, f"{type(exc).__name__}: {exc}")

    routes = [
        Route("/", page),
        Route("/card.css", card_css),
        Route("/static/{path:path}", static),
        Route("/media/{name}", media),
        Route("/api/state", state),
        Route("/api/next", next_card),
        Route("/api/decks", decks),
        Route("/api/summary", summary),
        Route("/api/answer", answer, methods=["POST"]),
        Route("/api/undo", undo, methods=["POST"]),
        Route("/api/sliders", sliders),
        Route("/api/redraw", redraw_card, methods=["POST"]),
        Route("/api/stats", stats),
        Route("/api/browse", browse),
        Route("/api/card", card_info),
        Route("/api/set_due", set_due, methods=["POST"]),
        *(Route(f"/api/{name}", action(name), methods=["POST"]) for name in ("suspend", "unsuspend", "bury", "reset", "skip")),
    ]
    return Guard(Starlette(routes=routes), address)


async def _body(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _json(data: dict) -> Response:
    return JSONResponse(data, headers=NO_STORE)


def _error(status: int, message: str, **extra) -> Response:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=NO_STORE)


def _not_found() -> Response:
    return PlainTextResponse("not found", status_code=404)
