"""Replacing a file so that a crash at any moment leaves either the old file or the new one,
never a torn one: the bytes go to a temporary file in the same folder, are flushed and fsynced,
and one `os.replace` puts them in place; on any failure the temporary file is removed.

Every file notecards writes goes through `write_atomic`: the export and sync states, the
package, the simulation cache, and the notes sync writes ID lines into (which also check, just
before the rename, that the user did not save the note meanwhile).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

DEFAULT_SUFFIX = ".tmp"


def write_atomic(target: Path, data: bytes | Callable[[BinaryIO], None], *, suffix: str = DEFAULT_SUFFIX,
                 before_replace: Callable[[Path], bool] | None = None,
                 sync_folder: bool = False) -> os.stat_result | None:
    """Put `data` (bytes, or a function writing to the open file) at `target` atomically.

    The temporary file is `.<name>.<random><suffix>` beside the target, so two writers never
    share one and a watcher can tell it apart. `before_replace(tmp)` may prepare it (permissions)
    and veto the rename by returning False: the temporary file goes and None is returned. Else
    the written file's stat (taken before the rename, so a later save of the target is not
    mistaken for ours). `sync_folder` also fsyncs the folder, making the rename itself durable."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, bytes):
                fh.write(data)
            else:
                data(fh)
            fh.flush()
            os.fsync(fh.fileno())
            written = os.fstat(fh.fileno())
        if before_replace is not None and not before_replace(tmp):
            tmp.unlink()
            return None
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_folder:
        fsync_folder(target.parent)
    return written


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (where the OS lets us open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
