"""What keeps the study server private to the person who started it.

The server listens on 127.0.0.1, but any web page the user visits can make their browser send
requests to 127.0.0.1, and a hostile DNS name can be re-pointed at 127.0.0.1 (DNS rebinding) so
that such a page reads the answers. So every request must pass three checks before it reaches the
app (`Guard`):

- its path starts with the run's secret token (`/s/<token>/…`), which only the URL printed in the
  terminal carries — static files and media too, so nothing about the vault is readable without it;
- its Host header names this server (`127.0.0.1:PORT` or `localhost:PORT`), which a rebound
  foreign name never does;
- a state-changing request (anything but GET/HEAD) carries no foreign Origin.

Every response then gets a Content-Security-Policy that allows no remote origin (the page works
offline, KaTeX included, and card HTML cannot load or send anything elsewhere), `nosniff`, and
`no-referrer` (the token is in the URL and must never leave in a Referer header).

Files are served only from one root at a time (`safe_file`): the name is resolved, symlinks
followed, and refused unless the result is a regular file inside the root.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# KaTeX writes inline style attributes (hence 'unsafe-inline' for styles only) and loads its fonts
# from its own stylesheet's folder; card figures may be data: URIs. No script runs but our own file.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self'; media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")

SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-origin"),
]

SAFE_METHODS = {"GET", "HEAD"}


def new_token() -> str:
    """A fresh secret for one run of the server: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Address:
    """Where the server listens, and so the only Host and Origin values it accepts."""

    port: int
    token: str

    @property
    def hosts(self) -> frozenset[str]:
        return frozenset({f"127.0.0.1:{self.port}", f"localhost:{self.port}"})

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(f"http://{h}" for h in self.hosts)

    @property
    def prefix(self) -> str:
        return f"/s/{self.token}"

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}/"


class Guard:
    """ASGI middleware: refuse requests without the token, for another host or from another origin.

    The token is checked in constant time and becomes the ASGI root path, so the app's routes are
    written without it (`/api/next`, `/static/app.js`). A refused request gets a bare 403 that says
    which check failed — nothing about the vault.
    """

    def __init__(self, app: ASGIApp, address: Address) -> None:
        self.app = app
        self.address = address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        send = _with_security_headers(send)
        if refusal:
            await PlainTextResponse(refusal, status_code=403)(scope, receive, send)
            return
        if scope["path"] == self.address.prefix:      # relative links in the page need the slash
            await RedirectResponse(self.address.prefix + "/")(scope, receive, send)
            return
        await self.app({**scope, "root_path": self.address.prefix}, receive, send)

    def refusal(self, scope: Scope) -> str | None:
        """Why this request is refused, or None when it may go on."""
        headers = _headers(scope)
        if headers.get("host", "") not in self.address.hosts:
            return "forbidden: this server answers only to its own address (127.0.0.1 or localhost)"
        if not _has_token(scope["path"], self.address.prefix):
            return "forbidden: open the URL that `notecards study` printed (it carries this run's token)"
        if scope["method"] not in SAFE_METHODS:
            origin = headers.get("origin")
            if origin is not None and origin not in self.address.origins:
                return "forbidden: request from another site"
            if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
                return "forbidden: request from another site"
        return None


def _has_token(path: str, prefix: str) -> bool:
    head = path[:len(prefix)]
    rest = path[len(prefix):]
    return secrets.compare_digest(head.encode(), prefix.encode()) and (rest == "" or rest.startswith("/"))


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _with_security_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            names = {k.lower() for k, _ in message.get("headers", [])}
            extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)
    return sending


def safe_file(root: Path, name: str) -> Path | None:
    """The file `name` names under `root`, or None if it is not a regular file inside `root`.

    Resolving follows every symlink first, so a link inside the root that points outside it, a
    `..` segment, an absolute name or a NUL byte all end up refused.
    """
    if not name or "\x00" in name or "\\" in name:
        return None
    try:
        base = root.resolve(strict=True)
        path = (base / name).resolve(strict=True)
    except (OSError, RuntimeError):       # missing, a symlink loop, a name too long
        return None
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path


def inside(root: Path, path: Path) -> bool:
    """Whether `path`, with its symlinks resolved, is a regular file inside `root`."""
    try:
        resolved = path.resolve(strict=True)
        return resolved.is_relative_to(root.resolve(strict=True)) and resolved.is_file()
    except (OSError, RuntimeError):
        return False
