"""Vault stage: find the note files, read them safely, and resolve Obsidian's links to files.

Obsidian resolves `[[name]]` and `![[image.png]]` by name anywhere in the vault (shortest path
wins), and `![](rel/img.png)` relative to the note; `VaultIndex` does the same so embeds and media
work as they do in Obsidian.

Nothing outside the vault is ever read into a deck: a symbolic link whose target (all links
resolved) lies outside the vault root is not a file of the vault. It is kept aside in
`VaultIndex.outside`, so a reference to it is told why it is not followed, and a note file that
is such a link is a warning once per run. A link that loops or leads nowhere is a warning once,
at the link, and not a file of the vault either. Links that stay inside the vault work as files;
linked folders are not walked (their files, inside the vault, are indexed where they really are).
"""

from __future__ import annotations

import errno
import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from notecards.config import Settings
from notecards.types import Diagnostic, SourceFile

SKIP_DIRS = {".obsidian", ".notecards", ".trash", ".git", "node_modules"}
MAX_NOTE_BYTES = 50 * 1024 * 1024


@dataclass
class VaultIndex:
    """Every file of the vault by name, so links resolve the way Obsidian resolves them."""

    root: Path
    files: list[str] = field(default_factory=list)          # vault-relative POSIX paths
    _paths: set[str] = field(default_factory=set, repr=False)
    _by_name: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _by_stem: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _sources: dict[str, SourceFile] = field(default_factory=dict, repr=False)
    outside: dict[str, str] = field(default_factory=dict)   # links out of the vault -> their target
    broken: dict[str, str] = field(default_factory=dict)    # links that loop or lead nowhere -> why

    @classmethod
    def scan(cls, root: Path) -> "VaultIndex":
        index = cls(root=root)
        real_root = root.resolve()
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
            rel_dir = os.path.relpath(dirpath, root)
            for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
                rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
                if not os.path.islink(os.path.join(dirpath, name)):
                    index.add(rel)
                else:
                    index._add_link(rel, real_root)
        return index

    def _add_link(self, rel: str, real_root: Path) -> None:
        """A symbolic link: a file of the vault only when it leads to a file inside the vault."""
        try:
            real = (self.root / rel).resolve(strict=True)
        except RuntimeError:
            self.broken[rel] = "loops (it leads back to itself)"
            return
        except OSError as exc:
            self.broken[rel] = ("loops (it leads back to itself)" if exc.errno == errno.ELOOP
                                else "leads to nothing (its target does not exist)")
            return
        if not real.is_relative_to(real_root):
            self.outside[rel] = str(real)
        elif real.is_file():
            self.add(rel)

    def link_problems(self, extensions: list[str]) -> list[Diagnostic]:
        """Links that loop or lead nowhere, and note files that lead out of the vault: one warning each."""
        exts = tuple(e.lower() for e in extensions)
        out = [Diagnostic(rel, 1, "warning", f"symbolic link {why}; skipped") for rel, why in self.broken.items()]
        out += [Diagnostic(rel, 1, "warning", f"symbolic link to {target}, outside the vault; not read "
                           "(nothing outside the vault goes into a deck)")
                for rel, target in self.outside.items() if rel.lower().endswith(exts)]
        return sorted(out, key=lambda d: d.path)

    def leads_outside(self, target: str, from_path: str) -> str | None:
        """Why `target`, which did not resolve, is not followed: a link out of the vault, or None."""
        if not self.outside and not self.broken:
            return None
        target = unquote(target.strip().replace("\\", "/"))
        rel = os.path.normpath((PurePosixPath(from_path).parent / target).as_posix()).replace(os.sep, "/")
        name = PurePosixPath(target).name.lower()
        for link, why in [*self.outside.items(), *self.broken.items()]:
            pure = PurePosixPath(link)
            if link in (rel, target) or rel.startswith(link + "/") or name in (pure.name.lower(), pure.stem.lower()):
                return (f"`{link}` is a symbolic link out of the vault (to {why}), not read"
                        if link in self.outside else f"`{link}` is a symbolic link that {why}")
        return None

    def add(self, rel: str) -> None:
        self.files.append(rel)
        self._paths.add(rel)
        name = PurePosixPath(rel).name
        self._by_name.setdefault(name.lower(), []).append(rel)
        self._by_stem.setdefault(PurePosixPath(rel).stem.lower(), []).append(rel)

    def suffixes(self) -> tuple[str, ...]:
        """Every file extension in the vault (lower-cased), e.g. to find a note of any kind."""
        return tuple(sorted({PurePosixPath(f).suffix.lower() for f in self.files}))

    def remember(self, source: SourceFile) -> None:
        """Keep a file already read, so an embed of it is not read twice."""
        self._sources[source.path] = source

    def resolve_note(self, target: str, extensions: tuple[str, ...] = (".md",)) -> str | None:
        """`[[target]]` -> vault-relative path of the note, or None when it is not in the vault."""
        target = target.strip().replace("\\", "/")
        if not target:
            return None
        pure = PurePosixPath(target)
        if pure.suffix.lower() in extensions:
            candidates = self._by_name.get(pure.name.lower(), [])
        else:
            candidates = [c for c in self._by_stem.get(pure.name.lower(), [])
                          if PurePosixPath(c).suffix.lower() in extensions]
            # a name like "v1.2 notes" has a dot but no note extension
            candidates += [c for c in self._by_name.get((pure.name + ".md").lower(), []) if c not in candidates]
        return _best(candidates, target)

    def resolve_attachment(self, target: str, from_path: str) -> str | None:
        """An image/audio reference -> vault-relative path: relative to the note first, then by name."""
        target = target.strip().replace("\\", "/")
        if not target or "://" in target:
            return None
        rel = (PurePosixPath(from_path).parent / target).as_posix()
        norm = os.path.normpath(rel).replace(os.sep, "/")
        if norm in self._paths:
            return norm
        if target in self._paths:
            return target
        return _best(self._by_name.get(PurePosixPath(target).name.lower(), []), target)

    def source(self, rel: str, diagnostics: list[Diagnostic]) -> SourceFile | None:
        """The note at `rel`, read once per run however often it is embedded."""
        if rel not in self._sources:
            src = read_source(self.root, rel, diagnostics)
            if src is None:
                return None
            self._sources[rel] = src
        return self._sources[rel]


def _best(candidates: list[str], target: str) -> str | None:
    """Obsidian's rule: a path that ends with the link text, the shortest one first."""
    if not candidates:
        return None
    target_l = target.lower()
    suffixed = [c for c in candidates if c.lower().endswith(target_l) or
                PurePosixPath(c).with_suffix("").as_posix().lower().endswith(target_l)]
    pool = suffixed or candidates
    return min(pool, key=lambda c: (c.count("/"), len(c), c))


def read_source(root: Path, rel: str, diagnostics: list[Diagnostic]) -> SourceFile | None:
    """Read one note; a file we cannot read as text is a diagnostic and is skipped, never guessed at.
    A path that leads out of `root` (through a link) is never read."""
    path = root / rel
    try:
        real = path.resolve()
        if not real.is_relative_to(root.resolve()):
            diagnostics.append(Diagnostic(rel, 1, "warning", f"leads to {real}, outside the vault; not read"))
            return None
        stat = path.stat()
        if stat.st_size > MAX_NOTE_BYTES:
            diagnostics.append(Diagnostic(rel, 1, "error",
                                          f"file is {stat.st_size // (1024 * 1024)} MB, over the "
                                          f"{MAX_NOTE_BYTES // (1024 * 1024)} MB limit for a note; skipped"))
            return None
        raw = path.read_bytes()
    except (OSError, RuntimeError) as exc:          # RuntimeError: a link loop, on Python < 3.13
        diagnostics.append(Diagnostic(rel, 1, "error", f"cannot read file: {getattr(exc, 'strerror', None) or exc}"))
        return None
    return decode_source(rel, path, raw, stat.st_mtime_ns, diagnostics)


def decode_source(rel: str, path: Path, raw: bytes, mtime_ns: int,
                  diagnostics: list[Diagnostic]) -> SourceFile | None:
    if b"\x00" in raw[:8192]:
        diagnostics.append(Diagnostic(rel, 1, "error", "file looks binary (it holds NUL bytes), not a note; skipped"))
        return None
    encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        diagnostics.append(Diagnostic(rel, line, "error",
                                      f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); "
                                      "save it as UTF-8 to use it; skipped"))
        return None
    newline = "\r\n" if "\r\n" in text else "\n"
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return SourceFile(path=rel, abspath=path, text=text, newline=newline, encoding=encoding,
                      mtime_ns=mtime_ns, size=len(raw))


def note_files(index: VaultIndex, settings: Settings) -> list[str]:
    """The vault's note files, after Scan Directory and ignore globs, sorted by their full vault
    path as Obsidian_to_Anki reads them (`a/z.md` before `b.md`, which a folder walk reverses)."""
    exts = tuple(e.lower() for e in settings.extensions)
    scan = settings.scan_directory.strip("/")
    out = []
    for rel in index.files:
        if not rel.lower().endswith(exts):
            continue
        if scan and not (rel == scan or rel.startswith(scan + "/")):
            continue
        if any(_glob_match(rel, g) for g in settings.ignored_globs):
            continue
        out.append(rel)
    return sorted(out)


def _glob_match(rel: str, pattern: str) -> bool:
    """Obsidian_to_Anki's ignore globs (`dir/**`, `*.excalidraw.md`), with `**` spanning folders."""
    if fnmatch.fnmatchcase(rel, pattern):
        return True
    if pattern.endswith("/**") and fnmatch.fnmatchcase(rel, pattern[:-3] + "/*"):
        return True
    return PurePosixPath(rel).match(pattern)
