"""Images and audio: vault files become media shipped with the card, under content-hashed names.

A name is the first 16 hex digits of the file's SHA-256 plus its lower-cased extension, so two
`img.png` in different folders never collide and an unchanged file keeps its name across runs.
Local references resolve as Obsidian resolves them (relative to the note, then by name anywhere
in the vault); a missing file is a warning at its line and is shown as its text. `http(s)` and
`data:` images stay as they are (not downloaded): Anki shows them when online. Audio and video
become Anki's `[sound:name]`, which plays both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_inline.image import image as image_rule
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from notecards.render.render_state import RenderState, inline_line, state_of, walk_inline
from notecards.types import MediaFile

IMAGE_EXTS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".svg", ".webp", ".avif",
                        ".apng", ".ico", ".tif", ".tiff"})
SOUND_EXTS = frozenset({".mp3", ".ogg", ".oga", ".wav", ".m4a", ".flac", ".aac", ".opus", ".3gp",
                        ".webm", ".mp4", ".ogv", ".mov", ".mkv"})
_REMOTE_PREFIXES = ("http://", "https://", "data:", "//")
_name_cache: dict[tuple[str, int, int], str] = {}


def media_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.at("image", image_with_position)
    md.core.ruler.push("media", resolve_media)
    md.add_render_rule("sound", render_sound)
    md.add_render_rule("media_missing", render_missing)


def media_kind(name: str) -> str | None:
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in IMAGE_EXTS:
        return "image"
    if suffix in SOUND_EXTS:
        return "sound"
    return None


def hashed_name(path: Path) -> str:
    """Content-hashed media name; the hash is remembered per (path, mtime, size) for the run."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    name = _name_cache.get(key)
    if name is None:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        name = digest + path.suffix.lower()
        _name_cache[key] = name
    return name


def image_with_position(state: StateInline, silent: bool) -> bool:
    """markdown-it's own image rule, also recording where the image starts for diagnostics."""
    start, count = state.pos, len(state.tokens)
    if not image_rule(state, silent):
        return False
    if not silent and len(state.tokens) > count:
        state.tokens[count].meta["pos"] = start
    return True


def resolve_media(state) -> None:
    rs = state_of(state.env)
    if rs is None or rs.ctx is None:
        return
    for inline, child in walk_inline(state.tokens):
        if child.type == "image":
            _resolve_image(rs, inline, child)


def local_target(src: str) -> str | None:
    """The vault path a markdown image's `src` names (`Pasted%20image%201.png` is the file
    `Pasted image 1.png`, as Obsidian writes it), or None for a remote or inline image."""
    if not src or src.startswith(_REMOTE_PREFIXES) or "://" in src:
        return None
    return unquote(src)


def _resolve_image(rs: RenderState, inline: Token, token: Token) -> None:
    target = local_target(str(token.attrGet("src") or ""))
    if target is None or token.meta.get("resolved"):
        return
    rel = rs.ctx.index.resolve_attachment(target, rs.path)
    abspath = rs.ctx.index.root / rel if rel else None
    if abspath is None or not abspath.is_file():
        why = rs.ctx.index.leads_outside(target, rs.path) or f"image or audio file `{target}` is not in the vault"
        rs.warn(inline_line(rs, inline, token), why)
        token.type = "media_missing"
        token.content = target
        return
    name = hashed_name(abspath)
    rs.media.setdefault(name, MediaFile(name=name, path=abspath))
    token.meta["resolved"] = True
    if media_kind(target) == "sound":
        token.type = "sound"
        token.content = name
    else:
        token.attrSet("src", name)


def render_sound(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return f"[sound:{tokens[idx].content}]"


def render_missing(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    token = tokens[idx]
    shown = self.renderInlineAsText(token.children or [], options, env) or token.content
    return (f'<span class="nc-missing" title="not found in the vault: {escapeHtml(token.content)}">'
            f"{escapeHtml(shown)}</span>")
