"""Entry point of the sandbox: sets up isolation, then runs the user's code as a fresh interpreter.

Run by `notecards.sim.sandbox` as ``python -I _sandbox_child.py CONFIG_JSON`` with the report pipe
as an inherited file descriptor. It is a plain script (standard library only, never imports
notecards) because it is started as a file path by an isolated interpreter.

Three processes, so that every piece of isolation works with normal process semantics:

* **A** (this script, started by the parent in its own session) unshares the PID, network and
  mount namespaces where it may; a new PID namespace only applies to A's children, so A forks.
* **B** is PID 1 of the new namespace. It builds the private filesystem view (a fresh root holding
  only the interpreter, its packages, the system libraries and the working folder, all read-only
  but the working folder, which becomes a size-capped tmpfs seeded from the real one; a fresh
  /proc), then forks C and reaps. When C ends well, B kills the rest of the namespace and copies
  the figures to the real working folder, which only B can still reach (through a handle opened
  before the view replaced the root). When B exits, the kernel kills everything left in the namespace: a fork bomb or a
  daemonised child cannot outlive the run.
* **C** sets the resource limits, drops to the unprivileged sandbox user and execs the user's
  code. C is not a namespace init, so signals such as SIGXCPU behave normally for it.

Progress goes to the report pipe as JSON lines: ``{"isolation": [...]}`` once the setup is done,
``{"setup_error": "..."}`` if it failed, ``{"not_regular": [...]}`` for figure names that were
symlinks or special files and so not copied out, and ``{"exit": n}`` or ``{"signal": n}`` for C's end.
"""

import contextlib
import ctypes
import json
import os
import resource
import shutil
import signal
import stat
import sys
import traceback

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
AT_FDCWD = -100
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
SYS_MOUNT_SETATTR = 442  # the same number on every Linux architecture (new-style syscall)
PR_SET_NO_NEW_PRIVS = 38
MAX_COPY_DEPTH = 8
FS_VIEW = "filesystem view holds only the interpreter, its packages, system libraries and the working folder"
MNT_DETACH = 2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
LIBRARY_FOLDERS = ["/lib", "/lib64", "/lib32", "/usr/lib", "/usr/lib64", "/usr/lib32"]
DEVICES = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"]

LIBC = ctypes.CDLL(None, use_errno=True)


class MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def check(result: int, what: str) -> None:
    """Turn a libc failure into an OSError that names the step."""
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    check(LIBC.unshare(ctypes.c_int(flags)), "unshare")


def c_path(text: str | None) -> bytes | None:
    return None if text is None else os.fsencode(text)


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    result = LIBC.mount(c_path(source), c_path(target), c_path(fstype), ctypes.c_ulong(flags), c_path(data))
    check(result, f"mount {target}")


def mount_setattr(path: str, flags: int, attr_set: int = 0, attr_clr: int = 0, dir_fd: int = AT_FDCWD) -> None:
    attr = MountAttr(attr_set, attr_clr, 0, 0)
    result = LIBC.syscall(
        ctypes.c_long(SYS_MOUNT_SETATTR), ctypes.c_int(dir_fd), os.fsencode(path),
        ctypes.c_uint(flags), ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)),
    )
    check(result, f"mount_setattr {path or dir_fd}")


def report(fd: int, **message) -> None:
    os.write(fd, (json.dumps(message) + "\n").encode())


def enter_namespaces(as_root: bool) -> list[str]:
    """Unshare PID, network and mount namespaces; unprivileged users go through a user namespace."""
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET
    if as_root:
        unshare(flags)
        return ["pid namespace", "network namespace", "mount namespace"]
    uid, gid = os.getuid(), os.getgid()
    unshare(flags | CLONE_NEWUSER)
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")
    return ["user namespace", "pid namespace", "network namespace", "mount namespace"]


def outermost(paths: list[str]) -> list[str]:
    """Drop paths that lie inside another path of the list."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


def pivot_root(new_root: str, put_old: str) -> None:
    number = SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise OSError(0, f"pivot_root: unknown system call number on {os.uname().machine}")
    check(LIBC.syscall(ctypes.c_long(number), c_path(new_root), c_path(put_old)), "pivot_root")


def bind_into(root: str, path: str) -> None:
    """Make `path` (a folder, a file or a symlink of the real filesystem) appear at the same place
    under `root`; symlinks are recreated, so /lib -> usr/lib resolves inside the view too."""
    target = root + path
    os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
    if os.path.islink(path):
        if not os.path.lexists(target):
            os.symlink(os.readlink(path), target)
        return
    if os.path.isdir(path):
        os.makedirs(target, mode=0o755, exist_ok=True)
    elif os.path.exists(path):
        if not os.path.exists(target):
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
    else:
        return
    mount(path, target, None, MS_BIND | MS_REC)


def held_paths(config: dict) -> list[str]:
    """Everything of the real filesystem the view holds: the interpreter and its packages, the
    system's shared libraries (which numpy's and Pillow's extension modules link against) and
    harmless devices. Symlinked folders (a merged /usr) come first, so that the folders they
    point to are bound below them."""
    links = [p for p in LIBRARY_FOLDERS if os.path.islink(p)]
    folders = [p for p in LIBRARY_FOLDERS if not os.path.islink(p)]
    return links + outermost(config["readable"] + folders) + DEVICES


def build_root(config: dict, real: int) -> None:
    """A tmpfs holding only `held_paths`, the working folder (a size-capped tmpfs seeded from the
    real one through `real`), and mount points for /proc and /dev/shm. It becomes the root and the
    old root is detached, so no path leads to /etc, /home, /tmp or the vault any more."""
    workdir, limits = config["workdir"], config["limits"]
    os.umask(0o022)  # the view's folders must be enterable by the sandbox uid, whatever the caller's umask
    root = workdir  # covered inside this namespace only; `real` still reaches the real folder
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    for path in held_paths(config):
        bind_into(root, path)
    private_workdir = root + workdir
    os.makedirs(private_workdir, mode=0o755)
    owner = os.getuid() if config["uid"] is None else config["uid"]
    mount("tmpfs", private_workdir, "tmpfs", MS_NOSUID | MS_NODEV,
          f"mode=0700,uid={owner},gid={owner},size={limits['disk_mb']}m,nr_inodes={limits['max_files']}")
    with open_folder(private_workdir) as private:
        copy_tree(real, private, lambda name, is_dir: True)
    for folder in ("/proc", "/dev/shm", "/.old"):
        os.makedirs(root + folder, mode=0o755, exist_ok=True)
    os.chdir(root)
    pivot_root(".", ".old")
    os.chdir("/")
    check(LIBC.umount2(c_path("/.old"), ctypes.c_int(MNT_DETACH)), "umount /.old")
    os.rmdir("/.old")


def build_filesystem(config: dict) -> tuple[list[str], int]:
    """The private view of `build_root`, read-only everywhere but the working folder and /dev/shm,
    with a /proc of this namespace only.

    Returns the measures in force and an open handle on the real working folder, which the view
    no longer shows, for `copy_figures_out`.
    """
    workdir, limits = config["workdir"], config["limits"]
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    real = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY)
    build_root(config, real)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=16m")
    isolation = [f"working folder limited to {limits['disk_mb']} MiB and {limits['max_files']} files", FS_VIEW]
    try:
        mount_setattr("/", AT_RECURSIVE, attr_set=MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID)
        mount_setattr(workdir, 0, attr_clr=MOUNT_ATTR_RDONLY)
        mount_setattr("/dev/shm", 0, attr_clr=MOUNT_ATTR_RDONLY)
    except OSError as exc:
        return isolation + [f"filesystem writable by permissions only ({exc.strerror})"], real
    return isolation + ["filesystem read-only outside the working folder"], real


@contextlib.contextmanager
def open_folder(path: str, dir_fd: int | None = None):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
    try:
        yield fd
    finally:
        os.close(fd)


def copy_tree(source: int, target: int, wanted, prefix: str = "", depth: int = MAX_COPY_DEPTH) -> list[str]:
    """Copy the regular files and folders `wanted(name, is_dir)` accepts, keeping their owner and mode.

    Symlinks, fifos and devices are never followed or read: the wanted ones among them are returned
    (as paths below `source`) so the caller can say why they were not taken. Folders deeper than
    `depth` are skipped, so a hostile tree cannot exhaust the stack; names already in `target` are
    kept.
    """
    skipped = []
    for name in sorted(os.listdir(source)):
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=source)
        except OSError:  # ELOOP for a symlink
            fd = None
        try:
            info = os.fstat(fd) if fd is not None else None
            if info is not None and stat.S_ISDIR(info.st_mode):
                if depth > 0 and wanted(name, True):
                    skipped += copy_folder(fd, info, name, target, wanted, f"{prefix}{name}/", depth - 1)
            elif info is not None and stat.S_ISREG(info.st_mode):
                if wanted(name, False):
                    copy_file(fd, info, name, target)
            elif wanted(name, False):
                skipped.append(prefix + name)
        except FileExistsError:  # e.g. a folder the code named sim.py
            continue
        finally:
            if fd is not None:
                os.close(fd)
    return skipped


def copy_folder(fd: int, info: os.stat_result, name: str, target: int, wanted, prefix: str, depth: int) -> list[str]:
    os.mkdir(name, 0o700, dir_fd=target)
    copy = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=target)
    try:
        skipped = copy_tree(fd, copy, wanted, prefix, depth)
        keep_owner_and_mode(copy, info)
    finally:
        os.close(copy)
    return skipped


def copy_file(fd: int, info: os.stat_result, name: str, target: int) -> None:
    copy = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=target)
    with open(fd, "rb", closefd=False) as reader, open(copy, "wb") as writer:
        shutil.copyfileobj(reader, writer)
        keep_owner_and_mode(copy, info)


def keep_owner_and_mode(fd: int, info: os.stat_result) -> None:
    os.fchown(fd, info.st_uid, info.st_gid)
    os.fchmod(fd, stat.S_IMODE(info.st_mode))


def is_figure_or_folder(name: str, is_dir: bool) -> bool:
    """What the parent may take back: PNG/SVG files, in folders that are not dot-folders."""
    return not name.startswith(".") if is_dir else name.lower().endswith((".png", ".svg"))


def copy_figures_out(workdir: str, real: int) -> list[str]:
    """After a successful run, bring the figures from the private tmpfs to the real working folder.

    Every other process of the namespace is killed first, so nothing can change the files while
    they are copied.
    """
    try:
        os.kill(-1, signal.SIGKILL)  # as PID 1 of the namespace, this reaches exactly the run's processes
    except ProcessLookupError:
        pass  # none left
    reap_all()
    with open_folder(workdir) as private:
        return copy_tree(private, real, is_figure_or_folder)


def set_limits(limits: dict[str, int]) -> None:
    mib = 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_mb"] * mib,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"] + 1))
    # one byte over the output budget: a file cut short by the limit is then too big to be taken
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["max_output_bytes"] + 1,) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["nproc"],) * 2)


def drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def forbid_new_privileges() -> None:
    """No setuid program (su, sudo, ...) can give the code back what the uid drop took away.

    This matters where the mount namespace, and with it the nosuid mounts, is not available.
    """
    zero = ctypes.c_ulong(0)
    check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), zero, zero, zero), "prctl(PR_SET_NO_NEW_PRIVS)")


def in_forked_child(body, *args) -> None:
    """Run a forked process's whole life: it must never unwind into its parent's code."""
    try:
        body(*args)
    except BaseException:
        traceback.print_exc()  # into the run's output, whose tail the caller sees
    finally:
        os._exit(127)


def run_user_code(config: dict, report_fd: int) -> None:
    """In C: limits, privilege drop, exec (which closes the report pipe). Never returns."""
    try:
        os.chdir(config["workdir"])  # the inherited cwd still points below the new mount
        set_limits(config["limits"])
        if config["uid"] is not None:
            drop_privileges(config["uid"])
        forbid_new_privileges()
        os.execve(config["argv"][0], config["argv"], config["env"])
    except Exception as exc:
        report(report_fd, setup_error=f"cannot start the code: {exc}")
    os._exit(126)


def reap_all() -> None:
    """Wait for every child, adopted orphans included, until none is left."""
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return


def supervise(config: dict, report_fd: int, isolation: list[str]) -> None:
    """In B: set up the filesystem, start C, reap until C ends, bring its figures out, report its end."""
    real_workdir = None
    try:
        if "mount namespace" in isolation:
            measures, real_workdir = build_filesystem(config)
            isolation += measures
        else:
            isolation.append("filesystem writable by permissions only (no mount namespace)")
    except OSError as exc:
        report(report_fd, setup_error=str(exc))
        os._exit(125)
    if config["uid"] is not None:
        isolation.append(f"unprivileged uid {config['uid']}")
    report(report_fd, isolation=isolation)
    child = os.fork()
    if child == 0:
        in_forked_child(run_user_code, config, report_fd)
    while True:
        pid, status = os.wait()
        if pid == child:
            break
    if real_workdir is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        report(report_fd, not_regular=copy_figures_out(config["workdir"], real_workdir))
    if os.WIFSIGNALED(status):
        report(report_fd, signal=os.WTERMSIG(status))
    else:
        report(report_fd, exit=os.WEXITSTATUS(status))
    os._exit(0)


def main() -> None:
    config = json.loads(sys.argv[1])
    report_fd = config["report_fd"]
    os.set_inheritable(report_fd, False)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        isolation = enter_namespaces(as_root=os.geteuid() == 0)
    except OSError as exc:
        isolation = [f"no namespaces ({exc.strerror})"]
    supervisor = os.fork()
    if supervisor == 0:
        in_forked_child(supervise, config, report_fd, isolation)
    _, status = os.waitpid(supervisor, 0)
    sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 124)


if __name__ == "__main__":
    main()
