"""The study server over real HTTP: a real uvicorn on a free port, the real engine on a temp vault.

What a person relies on: nobody but them can read or change their study session (token, Host,
Origin), no file outside the package's static folder or the vault's card media is ever served,
every response carries a CSP with no remote origin, and an answer is in the history file when
the server says it is saved.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from pathlib import Path

import httpx
import pytest
import uvicorn
from PIL import Image

from conftest import write
from notecards.study.command import bind_port
from notecards.study.engine import Study
from notecards.study.security import Address, new_token, safe_file
from notecards.study.server import STATIC, StudyService, create_app

DEVICE = "testdevice"

ALGEBRA = """\
TARGET DECK: Maths::Algebra

START
Basic
Pythagoras: what is $c^2$ for a right triangle with legs $a$ and $b$?
Back: $$c^2 = a^2 + b^2$$
END

START
Basic
The derivative of $x^n$?
Back: $n x^{n-1}$
END
"""

GEOMETRY = """\
TARGET DECK: Maths::Geometry

START
Basic
What shape is drawn here, on the back?
Back: A circle: ![[circle.png]]
END

START
Basic
A picture whose file is a symlink to outside the vault
Back: ![[leak.png]]
END
"""


def make_vault(root: Path) -> Path:
    """A small vault: math cards, a card with a real image, and an image symlinked out of it."""
    vault = root / "vault"
    write(vault, "Algebra.md", ALGEBRA)
    write(vault, "Geometry.md", GEOMETRY)
    (vault / "attachments").mkdir()
    Image.new("RGB", (40, 40), (200, 60, 60)).save(vault / "attachments" / "circle.png")
    outside = root / "outside"
    outside.mkdir()
    Image.new("RGB", (8, 8), (0, 0, 0)).save(outside / "secret.png")
    (vault / "attachments" / "leak.png").symlink_to(outside / "secret.png")
    return vault


def history_lines(vault: Path) -> list[dict]:
    path = vault / "study-history" / f"{DEVICE}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class StudyServer:
    """The app `notecards study` serves, on a real uvicorn in a thread of the test.

    The engine is opened on that thread (it keeps an SQLite connection, which belongs to the
    thread that opened it), as the command opens it on the thread that runs uvicorn. The socket
    listens before the thread starts, so requests made at once simply wait in its backlog.
    """

    def __init__(self, vault: Path, deck: str | None = None, simulate: bool = False) -> None:
        self.vault = vault
        self.deck = deck
        self.simulate = simulate
        self.sock = bind_port(0)
        self.port = self.sock.getsockname()[1]
        self.address = Address(self.port, new_token())
        self.url = self.address.url()
        self.reported: list = []
        self.errors: list[str] = []
        self.ready = threading.Event()
        self.failure: BaseException | None = None
        self.server: uvicorn.Server | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        study = None
        try:
            study = Study.open(self.vault, simulate=self.simulate, device=DEVICE)
            service = StudyService(study, self.vault, vault_name=self.vault.name, deck=self.deck,
                                   on_diagnostics=self.reported.extend, on_error=self.errors.append)
            config = uvicorn.Config(create_app(service, self.address), log_level="warning", lifespan="off")
            self.server = uvicorn.Server(config)
        except BaseException as exc:       # shown by __enter__, in the test's own thread
            self.failure = exc
            return
        finally:
            self.ready.set()
        try:
            self.server.run(sockets=[self.sock])
        finally:
            study.close()

    def __enter__(self) -> "StudyServer":
        self.thread.start()
        assert self.ready.wait(120), "the engine did not open within 120 s"
        if self.failure:
            raise self.failure
        return self

    def __exit__(self, *exc) -> None:
        if self.server:
            self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()

    def client(self, **headers) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def raw_get(self, path: str, host: str | None = None) -> tuple[int, bytes]:
        """A GET whose path is sent exactly as written (httpx would normalise `..` away)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.putrequest("GET", path, skip_host=True)
            conn.putheader("Host", f"127.0.0.1:{self.port}" if host is None else host)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


@pytest.fixture
def served(tmp_path):
    with StudyServer(make_vault(tmp_path)) as server:
        yield server


def test_every_request_needs_the_runs_token(served):
    token = served.address.token
    for path in ("/", "/static/app.js", "/static/katex/katex.min.js", "/api/next", "/api/decks",
                 "/card.css", "/media/circle.png", "/s/wrong/api/next", f"/s/{token[:-1]}/api/next",
                 f"/s/{token}x/api/next", f"/S/{token}/api/next"):
        status, body = served.raw_get(path)
        assert status == 403, path
        assert b"token" in body
    with served.client() as client:
        assert client.get("").status_code == 200
        assert client.get("static/app.js").status_code == 200
        assert client.get("api/next").status_code == 200
    status, _ = served.raw_get(f"/s/{token}")       # the bare prefix sends the page its trailing slash
    assert status in (302, 307)


def test_a_foreign_host_is_refused_even_with_the_token(served):
    """DNS rebinding: a hostile name re-pointed at 127.0.0.1 arrives with its own Host header."""
    path = f"{served.address.prefix}/api/next"
    for host in (f"evil.example:{served.port}", "evil.example", f"127.0.0.1:{served.port + 1}",
                 f"127.0.0.1.evil.example:{served.port}", ""):
        status, body = served.raw_get(path, host=host)
        assert status == 403, host
        assert b"own address" in body
    assert served.raw_get(path, host=f"localhost:{served.port}")[0] == 200
    assert served.raw_get(path, host=f"127.0.0.1:{served.port}")[0] == 200


def test_an_answer_from_another_site_is_refused_and_not_saved(served):
    with served.client() as client:
        card = client.get("api/next").json()["card"]
        answer = {"card_id": card["id"], "rating": 3, "duration_ms": 1200}
        for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                        {"Origin": f"http://127.0.0.1:{served.port + 1}"}, {"Sec-Fetch-Site": "cross-site"}):
            refused = client.post("api/answer", json=answer, headers=headers)
            assert refused.status_code == 403, headers
        assert history_lines(served.vault) == []
        own = client.post("api/answer", json=answer, headers={"Origin": f"http://127.0.0.1:{served.port}"})
        assert own.status_code == 200
    assert [e["type"] for e in history_lines(served.vault)] == ["review"]


def test_no_file_outside_the_static_folder_or_the_cards_media_is_served(served, tmp_path):
    prefix = served.address.prefix
    for path in ("/static/../server.py", "/static/%2e%2e/server.py", "/static/..%2fsecurity.py",
                 "/static/katex/../../engine.py", "/static//etc/passwd", "/static/%2fetc%2fpasswd",
                 "/static/katex/fonts/../../../../../../etc/passwd", "/media/..%2fAlgebra.md",
                 "/media/Algebra.md", "/media/%2e%2e%2fAlgebra.md", "/static/", "/static/katex"):
        status, body = served.raw_get(prefix + path)
        assert status == 404, path
        assert b"root:" not in body and b"import" not in body
    with served.client() as client:
        back = " ".join(c["back_html"] for c in _all_cards(client))
    names = re.findall(r'src="([^"]+)"', back)
    assert len(names) == 1           # circle.png; the symlinked leak.png never enters a card
    with served.client() as client:
        shown = [client.get(f"media/{n}") for n in names]
        leak_named = client.get("media/leak.png")
    assert [r.status_code for r in shown] == [200] and leak_named.status_code == 404
    served_png = shown[0]
    assert served_png.content == (served.vault / "attachments" / "circle.png").read_bytes()
    assert served_png.headers["content-type"] == "image/png"
    circle = served.vault / "attachments" / "circle.png"       # swapped for a link out after the build
    circle.unlink()
    circle.symlink_to(tmp_path / "outside" / "secret.png")
    with served.client() as client:
        assert client.get(f"media/{names[0]}").status_code == 404


def test_safe_file_refuses_links_and_names_that_leave_the_root(tmp_path):
    root = tmp_path / "root"
    write(root, "ok.txt", "fine")
    write(tmp_path, "secret.txt", "secret")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    (root / "dir-link").symlink_to(tmp_path)
    (root / "inner-link.txt").symlink_to(root / "ok.txt")
    assert safe_file(root, "ok.txt") == (root / "ok.txt").resolve()
    assert safe_file(root, "inner-link.txt") == (root / "ok.txt").resolve()
    for name in ("link.txt", "dir-link/secret.txt", "../secret.txt", str(tmp_path / "secret.txt"),
                 "ok.txt\x00", "", ".", "missing.txt", "..\\secret.txt"):
        assert safe_file(root, name) is None, name
    assert safe_file(STATIC, "app.js") is not None


def test_every_response_carries_the_security_headers(served):
    with served.client() as client:
        responses = [client.get(""), client.get("static/app.css"), client.get("api/next"),
                     client.get("static/missing.js")]
    responses.append(httpx.get(f"http://127.0.0.1:{served.port}/api/next"))         # refused: no token
    for response in responses:
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "http:" not in csp and "https:" not in csp and "*" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert responses[2].headers["cache-control"] == "no-store"
    assert responses[0].headers["cache-control"] == "no-store"


def test_an_answer_is_in_the_history_when_the_server_says_saved_and_undo_brings_the_card_back(served):
    with served.client() as client:
        first = client.get("api/next").json()
        card = first["card"]
        assert card["front_html"] and set(card["intervals"]) == {"1", "2", "3", "4"}
        assert card["obsidian_url"].startswith("obsidian://open?vault=vault&file=")
        reply = client.post("api/answer", json={"card_id": card["id"], "rating": 3, "duration_ms": 4200})
        assert reply.json()["saved"] is True
        [event] = history_lines(served.vault)
        assert (event["type"], event["guid"], event["rating"], event["ms"]) == ("review", card["guid"], 3, 4200)
        after = client.get("api/next").json()
        assert after["card"]["id"] != card["id"]
        assert after["counts"]["new"] == first["counts"]["new"] - 1
        assert client.post("api/undo").json() == {"undone": card["id"]}
        again = client.get("api/next").json()
        assert again["card"]["id"] == card["id"]
        assert again["counts"] == first["counts"]
    assert [e["type"] for e in history_lines(served.vault)] == ["review", "undo"]


def test_deck_list_counts_and_a_chosen_deck(served):
    with served.client() as client:
        decks = {d["name"]: d for d in client.get("api/decks").json()["decks"]}
        assert decks["Maths"]["new"] == decks["Maths::Algebra"]["new"] + decks["Maths::Geometry"]["new"]
        geometry = client.get("api/next", params={"deck": "Maths::Geometry"}).json()
        assert geometry["card"]["deck"] == "Maths::Geometry"
        assert geometry["counts"]["new"] == decks["Maths::Geometry"]["new"]


def test_the_session_ends_with_a_summary(served):
    with served.client() as client:
        ratings = iter([1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3])
        for _ in range(40):                       # learning steps bring cards back; a bound, not a wait
            data = client.get("api/next", params={"deck": "Maths::Algebra"}).json()
            if data["card"] is None or data["card"]["state"] == "learning" and data["counts"]["new"] == 0:
                break
            client.post("api/answer", json={"card_id": data["card"]["id"], "rating": next(ratings, 4)})
        summary = client.get("api/summary", params={"deck": "Maths::Algebra"}).json()
    assert summary["studied"] >= 2
    assert 0 < summary["again_rate"] < 1
    assert {"seconds", "due_tomorrow"} <= set(summary)


def test_a_leech_is_said_so_and_leaves_the_session(served):
    with served.client() as client:
        card = client.get("api/next").json()["card"]

        def answer(rating: int) -> dict:
            return client.post("api/answer", json={"card_id": card["id"], "rating": rating}).json()

        answer(4)                                  # Easy: a review card, so Again is a lapse
        leeches = []
        for lapse in range(8):
            leeches.append(answer(1)["leech"])
            if lapse < 7:
                answer(3)                          # relearnt: back to review
        assert leeches == [False] * 7 + [True]
        shown = [c["id"] for c in _all_cards(client)]
    assert card["id"] not in shown                 # suspended


def test_an_edited_note_shows_its_new_text_on_the_next_card(served):
    with served.client() as client:
        assert "Pythagoras" in client.get("api/next", params={"deck": "Maths::Algebra"}).json()["card"]["front_html"]
        text = ALGEBRA.replace("Pythagoras: what is", "Edited while studying: what is")
        (served.vault / "Algebra.md").write_text(text, encoding="utf-8")
        front = client.get("api/next", params={"deck": "Maths::Algebra"}).json()["card"]["front_html"]
    assert "Edited while studying" in front


def test_a_read_only_history_is_said_and_answers_are_refused_not_pretended(tmp_path):
    vault = make_vault(tmp_path)
    (vault / "study-history").write_text("a file where the history folder should be\n", encoding="utf-8")
    with StudyServer(vault) as server, server.client() as client:
        state = client.get("api/state").json()
        assert state["writable"] is False and state["read_only_reason"]
        due = sum(d["new"] + d["learning"] + d["review"] for d in client.get("api/decks").json()["decks"]
                  if "::" not in d["name"])
        card = client.get("api/next").json()["card"]
        reply = client.post("api/answer", json={"card_id": card["id"], "rating": 3})
        assert reply.status_code == 409
        assert reply.json()["reason"] == "read-only" and "not saved" in reply.json()["error"]
        seen = [card["id"]]
        while True:                          # the page passes over each card: every one is shown once
            assert client.post("api/skip", json={"card_id": seen[-1]}).status_code == 200
            following = client.get("api/next").json()["card"]
            if following is None:
                break
            assert following["id"] not in seen
            seen.append(following["id"])
        assert len(seen) == due == 4         # the vault's four cards, each passed over once
    assert (vault / "study-history").read_text(encoding="utf-8") == "a file where the history folder should be\n"


def test_bad_requests_get_a_clear_error_and_change_nothing(served):
    with served.client() as client:
        card = client.get("api/next").json()["card"]
        assert client.post("api/answer", json={"card_id": card["id"], "rating": 7}).status_code == 400
        assert client.post("api/answer", json={"card_id": card["id"], "rating": True}).status_code == 400
        assert client.post("api/answer", content=b"not json").status_code == 400
        unknown = client.post("api/answer", json={"card_id": "00-1", "rating": 3})
        assert unknown.status_code == 404 and "reload" in unknown.json()["error"]
        assert client.post("api/bury", json={}).status_code == 400
        assert client.get("api/answer").status_code == 405
    assert history_lines(served.vault) == []
    assert served.errors == []


def _all_cards(client: httpx.Client) -> list[dict]:
    """Every card of the vault, by burying each shown card (bury lasts until tomorrow)."""
    cards = []
    while (card := client.get("api/next").json()["card"]) is not None:
        cards.append(card)
        client.post("api/bury", json={"card_id": card["id"]})
    return cards
