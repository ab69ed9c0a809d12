"""The HTTP client for the AnkiConnect add-on (API version 6), sized for what the add-on can take.

The add-on answers on Anki's main thread, one request at a time, polled every 25 ms, and reads a
request body 1 KB at a time into a growing buffer, which costs time quadratic in the body's size.
Measured on Anki 26.9.3 with AnkiConnect 2025-11 (`benchmarks/bench_sync.py --limits`): a 1 MB body
is read in 0.1 s, 2 MB in 1 s, 4 MB in 5 s, 8 MB in 25 s; `addNotes` costs 4-8 ms per note. So a
request here carries at most `MAX_BODY` bytes and `MAX_NOTES` notes, well inside both, and its
timeout grows with what it carries. Failures become one `AnkiConnectError` subclass each, whose
message says what is wrong in words a user can act on:
- `Unreachable`: nothing listens (Anki closed, or no add-on);
- `Busy`: connected, but no answer in time (Anki's main thread is in a dialog or a long job);
  the request may still be carried out later, so a caller treats its work as possibly done;
- `AnswerLost`: the connection dropped after the request was sent; possibly done, as above;
- `NoCollection`: Anki is at its profile picker; `KeyRequired`: the add-on wants an `apiKey`;
- `Refused`: the add-on answered with an error.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8765"
KEY_ENV = "NOTECARDS_ANKICONNECT_KEY"
MAX_BODY = 512 * 1024          # bytes per request: 1/16 of the body that takes the add-on 25 s
MAX_NOTES = 200                # notes per addNotes/updateNote batch: about 1 s of Anki's main thread
BASE_TIMEOUT = 30.0            # seconds for a small request, whatever Anki is doing meanwhile
SECONDS_PER_NOTE = 0.05        # ~8x the add-on's cost per note
SECONDS_PER_MB2 = 1.0          # ~2.5x the measured 0.4 s * MB^2 of reading a body


class AnkiConnectError(Exception):
    """AnkiConnect could not do what was asked; the message is one line for the user."""

    maybe_done = False         # the request may have been carried out although no answer came


class Unreachable(AnkiConnectError):
    pass


class Busy(AnkiConnectError):
    maybe_done = True


class AnswerLost(AnkiConnectError):
    maybe_done = True


class NoCollection(AnkiConnectError):
    pass


class KeyRequired(AnkiConnectError):
    pass


class Refused(AnkiConnectError):
    pass


def normalize_url(url: str | None) -> str:
    """`localhost:8765`, `127.0.0.1` or a full URL: what a user types for AnkiConnect's address."""
    url = (url or DEFAULT_URL).strip()
    if "://" not in url:
        url = "http://" + url
    parts = urllib.parse.urlsplit(url)
    if parts.port is None and parts.scheme == "http":
        url = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc + ":8765"))
    return url.rstrip("/")


def timeout_for(body_bytes: int, notes: int = 0) -> float:
    megabytes = body_bytes / 1e6
    return BASE_TIMEOUT + SECONDS_PER_NOTE * notes + SECONDS_PER_MB2 * megabytes * megabytes


class AnkiConnect:
    """One method per request; `multi` splits a long list of actions into bounded requests."""

    def __init__(self, url: str | None = None, key: str | None = None):
        self.url = normalize_url(url)
        self.key = key or None

    def call(self, action: str, *, touches: int = 0, **params: Any) -> Any:
        """Run one action; `touches` is how many notes it writes, for its timeout."""
        request: dict[str, Any] = {"action": action, "version": 6, "params": params}
        if self.key:
            request["key"] = self.key
        body = json.dumps(request, ensure_ascii=False).encode("utf-8")
        reply = self._post(body, timeout_for(len(body), touches), action)
        if not isinstance(reply, dict) or set(reply) != {"result", "error"}:
            raise Refused(f"unexpected answer from AnkiConnect at {self.url}: {str(reply)[:120]}")
        if reply["error"] is not None:
            raise self._refusal(action, str(reply["error"]))
        return reply["result"]

    def multi(self, actions: list[tuple[str, dict]], *, notes_each: int = 0) -> list[Any]:
        """Many actions in as few bounded requests as fit; each answer is its result, or the
        `Refused` error of that action alone."""
        out: list[Any] = []
        key = {"key": self.key} if self.key else {}     # the add-on checks it for each action
        for chunk in bounded([{"action": a, "version": 6, "params": p, **key} for a, p in actions],
                              max_items=MAX_NOTES if notes_each else 10 * MAX_NOTES):
            for reply in self.call("multi", actions=chunk, touches=notes_each * len(chunk)):
                if isinstance(reply, dict) and set(reply) == {"result", "error"}:
                    out.append(self._refusal("", str(reply["error"])) if reply["error"] else reply["result"])
                else:
                    out.append(reply)
        return out

    def _post(self, body: bytes, timeout: float, action: str) -> Any:
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        sent = False
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                sent = True
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise Refused(f"AnkiConnect at {self.url} answered HTTP {exc.code} to {action}"
                          + (" (is this origin allowed in its webCorsOriginList?)" if exc.code == 403 else ""))
        except (TimeoutError, socket.timeout) as exc:
            raise Busy(f"Anki is busy: no answer from AnkiConnect at {self.url} to {action} within "
                       f"{timeout:.0f} s (a dialog open in Anki, or a long operation)") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                raise Busy(f"Anki is busy: AnkiConnect at {self.url} accepted no connection within "
                           f"{timeout:.0f} s") from exc
            if isinstance(exc.reason, (ConnectionResetError, http.client.RemoteDisconnected)):
                raise AnswerLost(f"AnkiConnect at {self.url} closed the connection during {action}") from exc
            raise Unreachable(f"cannot reach AnkiConnect at {self.url} ({exc.reason}); is Anki running "
                              "with the AnkiConnect add-on?") from exc
        except (http.client.HTTPException, ConnectionError) as exc:
            raise AnswerLost(f"AnkiConnect at {self.url} closed the connection during {action} "
                             f"({type(exc).__name__})") from exc
        except ValueError as exc:
            kind = AnswerLost if sent else Refused
            raise kind(f"AnkiConnect at {self.url} sent an answer that is not JSON ({exc})") from exc

    def _refusal(self, action: str, error: str) -> AnkiConnectError:
        if "collection is not available" in error:
            return NoCollection("Anki has no collection open (it is at its profile picker): open "
                                "your profile in Anki, then sync again")
        if "api key" in error.lower():
            return KeyRequired("AnkiConnect wants its API key: give --ankiconnect-key KEY or set "
                               f"{KEY_ENV}")
        return Refused(f"AnkiConnect {action}: {error}" if action else error)


def all_answered(answers: list[Any]) -> list[Any]:
    """The answers of a `multi` whose every action must succeed: the first refusal is raised."""
    for answer in answers:
        if isinstance(answer, AnkiConnectError):
            raise answer
    return answers


def bounded(items: list[dict], max_items: int = MAX_NOTES) -> list[list[dict]]:
    """Consecutive runs of items, each under MAX_BODY bytes of JSON and max_items long (an item
    bigger than the budget goes alone: it cannot be split)."""
    chunks: list[list[dict]] = []
    current: list[dict] = []
    size = 0
    for item in items:
        n = len(json.dumps(item, ensure_ascii=False).encode("utf-8")) + 2
        if current and (size + n > MAX_BODY or len(current) >= max_items):
            chunks.append(current)
            current, size = [], 0
        current.append(item)
        size += n
    if current:
        chunks.append(current)
    return chunks

