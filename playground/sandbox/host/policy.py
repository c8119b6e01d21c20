"""The sandbox's view of the world: the bwrap command line, the runtime files it binds, and the harness copy."""

from __future__ import annotations

import atexit
import functools
import glob
import os
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..shared.limits import SandboxLimits
from .options import SandboxOptions

# The packages that run inside the sandbox, bound whole; nothing else of the project is visible there.
SANDBOX_PACKAGE = Path(__file__).resolve().parent.parent  # playground/sandbox
SANDBOX_PACKAGE_PATH = ("playground", "sandbox")  # where the copies sit under the harness root, so imports match
HARNESS_PACKAGES = ("inside", "shared")
HARNESS_MODULE = "playground.sandbox.inside.harness"
SANDBOX_ENV = "/sandbox/env"
SANDBOX_HARNESS = "/sandbox/harness"
# Merged-/usr hosts link these top-level names into /usr; the sandbox recreates the links it needs.
# dlopen()ed by glibc rather than linked: pthread_exit() aborts without the unwinder.
EXTRA_LIBRARIES = ("libgcc_s.so.1",)
TOP_LEVEL_LINKS = ("/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin")


class PolicyError(RuntimeError):
    """The host lacks something the sandbox needs (bwrap, the interpreter, the package env)."""


@dataclass(frozen=True)
class Runtime:
    """The interpreter and what it needs, resolved once per process."""

    python: str  # real path of the interpreter binary
    python_links: tuple[tuple[str, str], ...]  # (link path, target) for the names it is known by
    stdlib: str
    libraries: tuple[tuple[str, str], ...]  # (host file, path inside the sandbox)
    top_links: tuple[tuple[str, str], ...]  # (link path, target)


def _ldd(paths: list[str]) -> set[str]:
    """Shared objects the dynamic loader resolves for these ELF files."""
    found: set[str] = set()
    result = subprocess.run(["ldd", *paths], capture_output=True, text=True, check=False, env={"LC_ALL": "C"})
    for line in result.stdout.splitlines():
        line = line.strip()
        if line.endswith(":"):  # "file:" header when several files are listed
            continue
        if "=>" in line:
            target = line.split("=>", 1)[1].strip().split(" ", 1)[0]
        else:
            target = line.split(" ", 1)[0]
        if target.startswith("/"):
            found.add(target)
    return found


@functools.lru_cache(maxsize=4)
def resolve_runtime(python: str) -> Runtime:
    """Find the interpreter's real binary, stdlib and shared libraries (ldd of it and of lib-dynload)."""
    if not os.path.exists(python):
        raise PolicyError(f"sandbox interpreter {python} is missing (apt-get install python3)")
    real = os.path.realpath(python)
    probe = subprocess.run(
        [real, "-I", "-S", "-c", "import sys,sysconfig;print(sysconfig.get_path('stdlib'))"],
        capture_output=True, text=True, check=True, env={},
    )  # fmt: skip
    stdlib = os.path.realpath(probe.stdout.strip())
    links = tuple((p, os.path.basename(real)) for p in {python} if os.path.realpath(p) == real and p != real)
    elf_files = [real, *sorted(glob.glob(os.path.join(stdlib, "lib-dynload", "*.so")))]
    needed = _ldd(elf_files)
    libc_dirs = {os.path.dirname(lib) for lib in needed if os.path.basename(lib).startswith("libc.so")}
    needed |= {
        os.path.join(d, extra) for d in libc_dirs for extra in EXTRA_LIBRARIES if os.path.exists(os.path.join(d, extra))
    }
    libraries: dict[str, str] = {}
    for lib in needed:
        inside = os.path.join(os.path.realpath(os.path.dirname(lib)), os.path.basename(lib))
        libraries[inside] = os.path.realpath(lib)
    top_links = [
        (link, os.readlink(link))
        for link in TOP_LEVEL_LINKS
        if os.path.islink(link) and any(lib.startswith(link + "/") for lib in needed)
    ]
    return Runtime(
        python=real,
        python_links=links,
        stdlib=stdlib,
        libraries=tuple(sorted((src, dst) for dst, src in libraries.items())),
        top_links=tuple(top_links),
    )


_harness_dirs: dict[str, str] = {}
HARNESS_DIR_PREFIX = "channels-academy-harness-"  # then the id of the process that made it, so orphans can be told


def harness_package_dirs(root: str) -> list[tuple[str, str]]:
    """(package name, its folder under `root`) for each package the sandbox runs."""
    return [(name, os.path.join(root, *SANDBOX_PACKAGE_PATH, name)) for name in HARNESS_PACKAGES]


def prepare_harness_dir(python: str) -> str:
    """A private world-readable copy of the harness packages, byte-compiled by the sandbox interpreter."""
    real = os.path.realpath(python)
    if real in _harness_dirs and os.path.isdir(_harness_dirs[real]):
        return _harness_dirs[real]
    remove_orphaned_harness_dirs()
    target = tempfile.mkdtemp(prefix=f"{HARNESS_DIR_PREFIX}{os.getpid()}-")
    for name, folder in harness_package_dirs(target):
        shutil.copytree(SANDBOX_PACKAGE / name, folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if os.path.exists(real):
        subprocess.run([real, "-I", "-S", "-m", "compileall", "-q", target], check=True, env={}, capture_output=True)
    for dirpath, _dirnames, filenames in os.walk(target):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    _harness_dirs[real] = target
    atexit.register(shutil.rmtree, target, True)
    return target


def remove_orphaned_harness_dirs(temp_dir: str | None = None) -> list[str]:
    """Copies left by processes of this user that are gone: a killed process skips atexit, and each restart would
    otherwise leave one more folder behind. Returns the folders removed."""
    removed = []
    for path in glob.glob(os.path.join(temp_dir or tempfile.gettempdir(), f"{HARNESS_DIR_PREFIX}*-*")):
        owner = os.path.basename(path).removeprefix(HARNESS_DIR_PREFIX).split("-", 1)[0]
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue
        if not owner.isdigit() or info.st_uid != os.geteuid() or not stat.S_ISDIR(info.st_mode):
            continue  # another user's, a link, or not named by a process
        if not process_exists(int(owner)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def process_exists(pid: int) -> bool:
    """Whether a process with this id runs now (on this machine's process namespace)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    return True


def parent_directories(paths: list[str]) -> list[str]:
    """Every ancestor directory of `paths` (except /), shallowest first."""
    found: set[str] = set()
    for path in paths:
        parent = os.path.dirname(path.rstrip("/"))
        while parent not in ("", "/"):
            found.add(parent)
            parent = os.path.dirname(parent)
    return sorted(found, key=lambda p: (p.count("/"), p))


def harness_args(
    *,
    python: str,
    harness_dir: str,
    env_dir: str,
    in_fd: int,
    out_fd: int,
    limits: SandboxLimits,
    preload: str,
    uid: int | None,
    mode: str,
) -> list[str]:
    """The harness command line (the same in every mode; paths differ)."""
    # -I leaves the harness root off sys.path, so the bootstrap puts it there and imports the harness as a package.
    bootstrap = f"import sys;sys.path.insert(0,{harness_dir!r});from {HARNESS_MODULE} import main;main(sys.argv[1:])"
    args = [python, "-I", "-S", "-B", "-X", "utf8", "-c", bootstrap]
    args += ["--in", str(in_fd), "--out", str(out_fd), "--env", env_dir, "--preload", preload]
    args += ["--limits", limits.to_json(), "--mode", mode]
    if uid is not None:
        args += ["--uid", str(uid), "--gid", str(uid)]
    return args


def bwrap_command(
    options: SandboxOptions,
    limits: SandboxLimits,
    *,
    harness_dir: str,
    in_fd: int,
    out_fd: int,
    seccomp_fd: int,
    info_fd: int,
    uid: int | None,
) -> list[str]:
    """bwrap argv: every namespace, a read-only runtime, private /tmp, seccomp; root mode keeps only setuid caps."""
    if not os.access(options.bwrap, os.X_OK):
        raise PolicyError(f"bubblewrap is missing at {options.bwrap} (apt-get install bubblewrap)")
    rt = resolve_runtime(options.python)
    argv = [options.bwrap, "--die-with-parent", "--new-session"]
    argv += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if options.mode == "root":
        # No user namespace: the harness switches to `uid` itself, then drops these last capabilities.
        argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]
    else:
        argv += ["--unshare-user", "--disable-userns"]
    argv += ["--hostname", "playground"]
    packages = harness_package_dirs(SANDBOX_HARNESS)
    destinations = [rt.python, rt.stdlib, SANDBOX_ENV, *[inside for _, inside in packages], "/tmp/x", "/proc", "/dev"]
    destinations += [link for link, _ in rt.python_links + rt.top_links] + [dst for _, dst in rt.libraries]
    # bwrap would create missing parents 0700 (unreadable once the harness drops to the run's uid).
    for directory in parent_directories(destinations):
        argv += ["--perms", "0755", "--dir", directory]
    argv += ["--ro-bind", rt.python, rt.python]
    for link, target in rt.python_links:
        argv += ["--symlink", target, link]
    argv += ["--ro-bind", rt.stdlib, rt.stdlib]
    for src, dst in rt.libraries:
        argv += ["--ro-bind", src, dst]
    for link, target in rt.top_links:
        argv += ["--symlink", target, link]
    argv += ["--ro-bind", str(options.env_dir), SANDBOX_ENV]
    for (_, copy), (_, inside) in zip(harness_package_dirs(harness_dir), packages, strict=True):
        argv += ["--ro-bind", copy, inside]
    argv += ["--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev"]
    argv += ["--size", str(limits.tmpfs_bytes), "--perms", "1777", "--tmpfs", "/tmp"]
    argv += ["--remount-ro", "/", "--chdir", "/tmp"]
    argv += ["--setenv", "MALLOC_ARENA_MAX", "1"]  # per-thread malloc arenas would eat the address-space limit
    argv += ["--seccomp", str(seccomp_fd), "--info-fd", str(info_fd), "--"]
    argv += harness_args(
        python=rt.python,
        harness_dir=SANDBOX_HARNESS,
        env_dir=SANDBOX_ENV,
        in_fd=in_fd,
        out_fd=out_fd,
        limits=limits,
        preload=options.preload,
        uid=uid,
        mode=options.mode,
    )
    return argv


def development_command(
    options: SandboxOptions, limits: SandboxLimits, *, harness_dir: str, in_fd: int, out_fd: int
) -> list[str]:
    """Unsandboxed development mode: a fresh interpreter with rlimits only. Never for production."""
    if not os.path.exists(options.python):
        raise PolicyError(f"sandbox interpreter {options.python} is missing")
    return harness_args(
        python=options.python,
        harness_dir=harness_dir,
        env_dir=str(options.env_dir),
        in_fd=in_fd,
        out_fd=out_fd,
        limits=limits,
        preload=options.preload,
        uid=None,
        mode="development",
    )
