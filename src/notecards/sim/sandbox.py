"""Run a user's ```` ```python sim ```` block as arbitrary code, isolated from the vault and the machine.

The caller decides whether code may run at all (``--allow-code``); this module only makes the run
safe enough that a buggy or hostile block cannot hang the export, exhaust the machine, reach the
network or change the user's files.

What a run gets (Linux):

* a fresh temporary working folder, which is its current directory and ``HOME``; it is deleted
  afterwards. Where a mount namespace is available the code sees a private tmpfs there instead,
  capped at ``disk_mb`` and 10,000 files (else a block writing 20 MiB files in a loop fills the
  disk at hundreds of MB/s), whose figures the launcher copies to the real folder once the code
  ended and every other process of the run is dead. Only ``*.png`` / ``*.svg`` regular files written there (sub-folders included,
  dot-folders excluded, symlinks never followed) are taken back, within ``max_output_bytes`` in
  total and decoded and re-encoded (see below), and only when the code ended successfully: a run that
  failed may have left a half-written figure, which must not reach a card;
* a separate interpreter, ``python -I -u`` of the current one, with a clean environment: ``PATH``,
  ``HOME``, ``MPLBACKEND=Agg``, ``MPLCONFIGDIR`` and ``TMPDIR`` inside the working folder, and
  ``OPENBLAS/OMP/MKL_NUM_THREADS=1`` (numerical libraries would otherwise start a thread per core,
  and threads count against the process limit). Nothing else of ``os.environ`` reaches the code;
* limits, set before the exec: address space ``memory_mb`` (numpy + scipy + pyplot need at least
  512 MiB), CPU seconds, file size ``max_output_bytes`` (which also caps what it prints, as its
  output goes to a file), 256 open files, no core dumps, ``max_processes`` processes and threads,
  and ``no_new_privs``, so that no setuid program gives back what the uid drop below took;
* a wall-clock ``timeout``, after which the whole process group is killed.

When running as root (these machines and CI do), the code additionally runs as a dedicated,
otherwise unused uid picked at random per run: root ignores ``RLIMIT_NPROC``, an unprivileged uid
does not, so a fork bomb is bounded, and every process of that uid belongs to this run and is
killed by uid afterwards. Where the kernel allows (root, or an unprivileged user namespace) the run
also gets its own PID namespace (when its first process ends, the kernel kills the rest), network
namespace (no interface but a down loopback: no network) and mount namespace, whose root is a
fresh tmpfs holding only what the interpreter needs, bound read-only: the interpreter's folders
(``interpreter_folders``: stdlib, lib-dynload, site-packages), the system's shared libraries
(``/lib*``, ``/usr/lib*``, which numpy's, scipy's and Pillow's extension modules link against), the
harmless devices (``/dev/null``, ``/dev/zero``, ``/dev/full``, ``/dev/*random``), a /proc showing only
the run's processes, a small ``/dev/shm`` and the working folder. The old root is detached
(``pivot_root``), so no path leads to /etc, /home, /root, /tmp, /work or the vault.

Guarantee on writes outside the working folder: with the mount namespace, every such write fails
(``OSError: [Errno 30] Read-only file system``) and ends as the run's error. Without it (an
unprivileged user whose system forbids user namespaces), writes are limited by file permissions
only: a root-run sandbox user can still write to world-writable folders such as /tmp, but never to
the vault or the project, and nothing outside the working folder is ever collected; the working
folder is bounded only per file, not in total. Which measures were in force is listed in
``SandboxResult.isolation`` so the caller can report a weaker sandbox.

Reads, with the mount namespace, are bounded by that view: a block cannot read world-readable
files of the machine (/etc/passwd) nor the vault's other notes. Without it (an unprivileged user
whose system forbids user namespaces) reads are bounded by file permissions only: the code can read
what its uid may read, and as it runs as the caller's own uid when the caller is not root, that is
the caller's files, home included; the isolation list then lacks the filesystem-view entry. Without
a PID namespace a process that left the group (``setsid``) outlives the run, as there is no uid of
its own to kill it by.

What comes back is decoded and re-encoded (``untrusted_figures``): a figure carries its picture and
nothing else — no text chunk, metadata, script or external reference. Its pixels can still encode
what the code read, which is why the filesystem view, not the re-encoding, keeps secrets away.

Cleanup kills the process group, then (as root) every process of the run's uid via a helper that
takes that uid and calls ``kill(-1, SIGKILL)``, which the kernel applies atomically with respect to
fork. The helper is a bare ``os.fork``; it runs no Python code between fork and exit that could
take a lock, so it is safe in a threaded parent.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from notecards import interrupt
from notecards.sim.untrusted_figures import clean_figure

CHILD_SCRIPT = Path(__file__).with_name("_sandbox_child.py")
SANDBOX_UIDS = (2_000_000_000, 2_100_000_000)  # above every distribution's user and subuid ranges
SCRIPT_NAME = "sim.py"
MAX_ENTRIES_SCANNED = 10_000
TAIL_LINES = 20
TAIL_BYTES = 64 * 1024
MAX_LINE_CHARS = 300  # of the exception line quoted in a one-line diagnostic
EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(: |$)")  # unindented, so never a traceback frame


@dataclass
class SandboxResult:
    files: dict[str, bytes]  # PNG/SVG files written in the working folder, relative posix name -> bytes
    error: str | None  # None on success, else one line for a diagnostic
    stderr_tail: str  # last lines of the code's output (stdout and stderr interleaved)
    isolation: list[str] = field(default_factory=list)  # the measures that were in force
    sandbox_uid: int | None = None  # the dedicated uid the code ran as (root only)


@dataclass(frozen=True)
class Limits:
    timeout: float  # wall-clock seconds
    memory_mb: int  # address space
    cpu_seconds: int
    max_output_bytes: int  # per file, for all figures together, and for the printed output
    max_processes: int
    disk_mb: int  # the working folder, where a private tmpfs can hold it

    def for_child(self, as_root: bool) -> dict:
        """The rlimits and tmpfs size the launcher applies (see _sandbox_child.set_limits)."""
        return {
            "memory_mb": self.memory_mb,
            "cpu_seconds": self.cpu_seconds,
            "max_output_bytes": self.max_output_bytes,
            "disk_mb": self.disk_mb,
            "max_files": MAX_ENTRIES_SCANNED,
            # the sandbox uid has no other process; a user's own processes count against the limit
            "nproc": self.max_processes + (0 if as_root else len(processes_of_uid(os.getuid()))),
        }


def run_python_sim(
    code: str,
    *,
    timeout: float = 30.0,
    memory_mb: int = 1024,
    cpu_seconds: int = 60,
    max_output_bytes: int = 20 * 2**20,
    max_processes: int = 64,
    disk_mb: int = 256,
) -> SandboxResult:
    """Run `code` in the sandbox and bring back its figures, or say in one line why it failed."""
    limits = Limits(timeout, memory_mb, cpu_seconds, max_output_bytes, max_processes, disk_mb)
    as_root = os.geteuid() == 0
    uid = pick_sandbox_uid() if as_root else None
    workdir = Path(tempfile.mkdtemp(prefix="notecards-sim-"))
    with interrupt.temporary(workdir):
        try:
            prepare_workdir(workdir, code, uid)
            with tempfile.TemporaryFile() as output:
                run = launch_and_wait(workdir, uid, limits.for_child(as_root), output, timeout)
                tail, printed = read_tail(output)
            error = describe_failure(run, tail, printed, limits)
            files, problems = collect_outputs(workdir, max_output_bytes) if error is None else ({}, [])
            problems[:0] = [f"{name} is not a regular file and was not taken" for name in run.not_regular]
        finally:
            remove_tree(workdir)
    return SandboxResult(files, error or "; ".join(problems) or None, tail, run.isolation, uid)


@dataclass
class RunOutcome:
    timed_out: bool
    isolation: list[str]
    exit_code: int | None  # the code's exit status, if it exited
    signal: int | None  # the signal that ended it, if one did
    setup_error: str | None
    launcher_status: int | None  # exit status of the launcher, when the code's end is unknown
    not_regular: list[str]  # figure names the launcher did not copy out of its private working folder


def pick_sandbox_uid() -> int:
    """A random uid that no process uses right now, so all its processes are this run's."""
    while True:
        uid = SANDBOX_UIDS[0] + secrets.randbelow(SANDBOX_UIDS[1] - SANDBOX_UIDS[0])
        if not processes_of_uid(uid):
            return uid


def prepare_workdir(workdir: Path, code: str, uid: int | None) -> None:
    (workdir / SCRIPT_NAME).write_text(code, encoding="utf-8")
    (workdir / SCRIPT_NAME).chmod(0o644)  # readable by the sandbox uid whatever the caller's umask
    for sub in (".matplotlib", ".tmp"):
        (workdir / sub).mkdir()
        if uid is not None:
            os.chown(workdir / sub, uid, uid)
    if uid is not None:
        os.chown(workdir, uid, uid)


def clean_environment(workdir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(workdir),
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(workdir / ".matplotlib"),
        "TMPDIR": str(workdir / ".tmp"),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def interpreter_folders() -> list[str]:
    """Folders the sandboxed interpreter must be able to read (stdlib, venv, site-packages)."""
    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    folders.add(os.path.dirname(os.path.realpath(sys.executable)))
    return sorted(os.path.realpath(f) for f in folders)


def launch_and_wait(workdir: Path, uid: int | None, limits: dict, output, timeout: float) -> RunOutcome:
    env = clean_environment(workdir)
    read_end, write_end = os.pipe()
    config = {
        "workdir": str(workdir),
        "uid": uid,
        "limits": limits,
        "readable": interpreter_folders(),
        "argv": [sys.executable, "-I", "-u", SCRIPT_NAME],
        "env": env,
        "report_fd": write_end,
    }
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", str(CHILD_SCRIPT), json.dumps(config)],
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            cwd=workdir, env=env, start_new_session=True, pass_fds=(write_end,),
        )
    except BaseException:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    timed_out = False

    def end_run() -> None:
        kill_process_group(proc.pid)
        proc.wait()
        kill_process_group(proc.pid)  # members that outlived the launcher keep the group id alive
        if uid is not None:
            kill_uid(uid)

    try:
        with interrupt.cleanup_on_exit(end_run):
            proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:  # also on KeyboardInterrupt: the run lives in its own session and would not see ^C
        end_run()
    messages = read_reports(read_end)
    return outcome_from(messages, timed_out, proc.returncode)


def kill_process_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def processes_of_uid(uid: int) -> list[int]:
    """Live (non-zombie) processes whose real uid is `uid`, from /proc."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith(("Z", "X")):
            found.append(int(entry.name))
    return found


def kill_uid(uid: int, attempts: int = 100) -> None:
    """Kill every process of `uid`, repeating until none is left (a fork bomb refills between rounds)."""
    for _ in range(attempts):
        if not processes_of_uid(uid):
            return
        helper = os.fork()
        if helper == 0:
            try:
                os.setresuid(uid, uid, uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(helper, 0)
        time.sleep(0.01)


def read_reports(read_end: int) -> list[dict]:
    """Read what the launcher reported; non-blocking, as everything that could write is dead."""
    os.set_blocking(read_end, False)
    chunks = []
    try:
        while chunk := os.read(read_end, 65536):
            chunks.append(chunk)
    except BlockingIOError:
        pass
    finally:
        os.close(read_end)
    messages = []
    for line in b"".join(chunks).decode(errors="replace").splitlines():
        try:
            messages.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return messages


def outcome_from(messages: list[dict], timed_out: bool, launcher_status: int | None) -> RunOutcome:
    merged: dict = {}
    for message in messages:
        merged.update(message)
    return RunOutcome(
        timed_out=timed_out,
        isolation=merged.get("isolation", []),
        exit_code=merged.get("exit"),
        signal=merged.get("signal"),
        setup_error=merged.get("setup_error"),
        launcher_status=launcher_status,
        not_regular=merged.get("not_regular", []),
    )


def read_tail(output) -> tuple[str, int]:
    """The last lines of the output, and the output's size in bytes."""
    size = output.seek(0, os.SEEK_END)
    output.seek(max(0, size - TAIL_BYTES))
    text = output.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-TAIL_LINES:]), size


def describe_failure(run: RunOutcome, tail: str, printed: int, limits: Limits) -> str | None:
    """The one line a user reads in the diagnostic; None when the code ended normally."""
    if run.timed_out:
        return f"timed out after {limits.timeout:g} s"
    if run.setup_error:
        return f"sandbox could not be set up: {run.setup_error}"
    if run.signal is not None:
        return describe_signal(run.signal, limits.cpu_seconds, limits.max_output_bytes)
    if run.exit_code is None:
        return f"sandbox ended without running the code (status {run.launcher_status})"
    if run.exit_code == 0:
        return None
    if printed > limits.max_output_bytes:  # RLIMIT_FSIZE applies to the output file too
        return f"printed more than the {limits.max_output_bytes}-byte output limit"
    last = exception_line(tail)
    if last.split(":", 1)[0].endswith("MemoryError"):
        return f"ran out of memory (limit {limits.memory_mb} MiB)"
    if "[Errno 27]" in last:  # EFBIG: Python ignores SIGXFSZ, so RLIMIT_FSIZE surfaces as an OSError
        return f"wrote a file larger than the {limits.max_output_bytes}-byte limit"
    if "[Errno 28]" in last:  # ENOSPC: the working folder's tmpfs is full, of bytes or of files
        return f"filled its working folder (limit {limits.disk_mb} MiB, {MAX_ENTRIES_SCANNED} files)"
    return f"exited with status {run.exit_code}: {last}" if last else f"exited with status {run.exit_code}"


def describe_signal(number: int, cpu_seconds: int, max_output_bytes: int) -> str:
    if number == signal.SIGXCPU:
        return f"used more than {cpu_seconds} s of CPU time"
    if number == signal.SIGXFSZ:
        return f"wrote a file larger than the {max_output_bytes}-byte limit"
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"killed by signal {number}"
    return f"killed by signal {number} ({name})"


def exception_line(text: str) -> str:
    """The traceback's exception line: the last unindented `Name: message` line, else the last line,
    cut to MAX_LINE_CHARS.

    Preferring the exception line keeps the message right when several processes (a fork) wrote
    their output interleaved.
    """
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    exception_lines = [line for line in lines if EXCEPTION_LINE.match(line)]
    line = (exception_lines or lines or [""])[-1].strip()
    return line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + "…"


def collect_outputs(workdir: Path, max_output_bytes: int) -> tuple[dict[str, bytes], list[str]]:
    """Regular PNG/SVG files under `workdir` (no dot-folders, no symlinks), within the byte budget."""
    files: dict[str, bytes] = {}
    problems: list[str] = []
    budget = max_output_bytes
    for name in candidate_outputs(workdir):
        data = read_regular_file(workdir / name)
        if data is None:
            problems.append(f"{name} is not a regular file and was not taken")
        elif len(data) > max_output_bytes:  # cut short by RLIMIT_FSIZE
            problems.append(f"{name} exceeds the {max_output_bytes}-byte output limit and was not taken")
        elif (clean := clean_figure(name, data)) is None:
            problems.append(f"{name} is not a valid {name.rsplit('.', 1)[-1].upper()} file")
        elif len(clean) > budget:
            problems.append(f"figures exceed the {max_output_bytes}-byte output limit ({name} not taken)")
        else:
            files[name] = clean
            budget -= len(clean)
    return files, problems


def candidate_outputs(workdir: Path) -> list[str]:
    names = []
    scanned = 0
    for folder, dirs, filenames in os.walk(workdir, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for filename in filenames:
            scanned += 1
            if scanned > MAX_ENTRIES_SCANNED:
                return sorted(names)
            if filename.lower().endswith((".png", ".svg")):
                names.append(Path(folder, filename).relative_to(workdir).as_posix())
    return sorted(names)


def read_regular_file(path: Path) -> bytes | None:
    """The file's bytes, or None for a symlink, device, fifo or unreadable entry.

    Its size is already bounded by RLIMIT_FSIZE, so reading it whole is safe.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        return f.read()


def remove_tree(path: Path) -> None:
    """Delete the working folder even where the code removed permissions from its sub-folders."""

    def make_writable_and_retry(function, failed_path, _exc_info):
        os.chmod(os.path.dirname(failed_path), 0o700)
        if os.path.isdir(failed_path) and not os.path.islink(failed_path):
            os.chmod(failed_path, 0o700)
        function(failed_path)

    shutil.rmtree(path, onerror=make_writable_and_retry)
