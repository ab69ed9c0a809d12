"""Find an Anki profile's collection in Anki's usual data folder, on Linux, macOS and Windows.

Anki keeps each profile in `<base>/<profile name>/collection.anki2`, where base is `$ANKI_BASE`
when set, else `%APPDATA%\\Anki2` on Windows, `~/Library/Application Support/Anki2` on macOS,
and `$XDG_DATA_HOME/Anki2` (default `~/.local/share/Anki2`) on Linux, or the Flatpak's
`~/.var/app/net.ankiweb.Anki/data/Anki2`. The first base that holds the profile wins.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Mapping


class ProfileNotFound(FileNotFoundError):
    """No collection for that profile name; the message lists the profiles that exist."""


def anki_bases(platform: str | None = None, env: Mapping[str, str] | None = None,
               home: Path | None = None) -> list[Path]:
    """Where Anki may keep its profiles on this system, most specific first."""
    platform = platform or sys.platform
    env = os.environ if env is None else env
    home = home or Path.home()
    bases = []
    if env.get("ANKI_BASE"):
        bases.append(Path(env["ANKI_BASE"]))
    if platform.startswith("win"):
        appdata = env.get("APPDATA")
        bases.append(Path(appdata) / "Anki2" if appdata else home / "AppData" / "Roaming" / "Anki2")
    elif platform == "darwin":
        bases.append(home / "Library" / "Application Support" / "Anki2")
    else:
        xdg = env.get("XDG_DATA_HOME")
        bases.append((Path(xdg) if xdg else home / ".local" / "share") / "Anki2")
        bases.append(home / ".var" / "app" / "net.ankiweb.Anki" / "data" / "Anki2")
    return bases


def collection_for_profile(name: str, platform: str | None = None, env: Mapping[str, str] | None = None,
                           home: Path | None = None) -> Path:
    """The collection file of profile `name`, or ProfileNotFound naming the profiles there are."""
    bases = anki_bases(platform, env, home)
    for base in bases:
        candidate = base / name / "collection.anki2"
        if candidate.is_file():
            return candidate
    found = sorted({p.parent.name for base in bases if base.is_dir()
                    for p in base.glob("*/collection.anki2")})
    where = ", ".join(str(b) for b in bases)
    known = f"; profiles found: {', '.join(found)}" if found else "; no profiles found there"
    raise ProfileNotFound(f"no Anki profile {name!r} in {where}{known}")
