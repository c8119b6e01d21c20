"""The program the sandbox runs: drop privileges, set rlimits, preload Channels, report ready, then run one learner module."""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
from typing import TYPE_CHECKING, Any

from ..shared import protocol

if TYPE_CHECKING:  # imported lazily at run time: the sandbox starts faster without them
    import ctypes

    from .driver import Driver

PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
LINUX_CAPABILITY_VERSION_3 = 0x20080522
THREAD_STACK_BYTES = 4 * 1024 * 1024
MAX_QUEUED_OPS = 256  # ops read but not yet applied (a handler holds the loop); then the pipe fills up  # the default 8 MiB per thread would eat the address-space limit
STATUS_FIELDS_ZERO = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


def parse_args(argv: list[str]) -> dict[str, str]:
    """`--name value` pairs (argparse would cost start-up time for nothing)."""
    args: dict[str, str] = {}
    for index in range(0, len(argv) - 1, 2):
        if not argv[index].startswith("--"):
            raise SystemExit(f"harness: unexpected argument {argv[index]!r}")
        args[argv[index][2:]] = argv[index + 1]
    return args


def write_raw(fd: int, event: dict[str, object]) -> None:
    """Emit an event before the tracing module is available (setup failures)."""
    data = (json.dumps(event, ensure_ascii=True) + "\n").encode("ascii")
    while data:
        data = data[os.write(fd, data) :]


def close_inherited_fds(keep: set[int]) -> None:
    """Close every descriptor except stdio and the protocol pipes (bwrap passes all inherited ones through)."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def set_no_new_privs(libc: ctypes.CDLL) -> None:
    """No exec may ever gain privileges again (setuid binaries, file capabilities)."""
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError("prctl(PR_SET_NO_NEW_PRIVS) failed")


def drop_privileges(uid: int, gid: int) -> None:
    """Root mode: empty the bounding set, become the run's own unprivileged uid, clear inheritable caps, verify."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    with open("/proc/sys/kernel/cap_last_cap") as handle:
        last_cap = int(handle.read())
    for cap in range(last_cap + 1):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), f"PR_CAPBSET_DROP {cap}")
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header, data = Header(LINUX_CAPABILITY_VERSION_3, 0), (Data * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")
    set_no_new_privs(libc)
    verify_unprivileged(uid, gid)


def verify_unprivileged(uid: int, gid: int) -> None:
    """Read back /proc/self/status: every uid/gid is the run's, no capability of any kind, no_new_privs set."""
    with open("/proc/self/status") as handle:
        status = dict(line.split(":", 1) for line in handle if ":" in line)
    if status["Uid"].split() != [str(uid)] * 4 or status["Gid"].split() != [str(gid)] * 4:
        raise OSError(f"uid/gid switch incomplete: Uid {status['Uid'].split()} Gid {status['Gid'].split()}")
    if status.get("Groups", "").split():
        raise OSError("supplementary groups remain")
    for name in STATUS_FIELDS_ZERO:
        if int(status[name], 16) != 0:
            raise OSError(f"{name} is {status[name].strip()}, expected none")
    if status["NoNewPrivs"].strip() != "1":
        raise OSError("no_new_privs is not set")


def apply_rlimits(limits: dict[str, int], *, limit_processes: bool) -> None:
    """CPU, address space, processes, file size, open files; hard = soft so learner code cannot raise them."""
    wanted = {
        resource.RLIMIT_CORE: (0, 0),
        resource.RLIMIT_CPU: (int(limits["cpu_seconds"]), int(limits["cpu_seconds"]) + 1),
        resource.RLIMIT_AS: (int(limits["memory_bytes"]),) * 2,
        resource.RLIMIT_FSIZE: (int(limits["file_size_bytes"]),) * 2,
        resource.RLIMIT_NOFILE: (int(limits["open_files"]),) * 2,
    }
    if limit_processes:
        wanted[resource.RLIMIT_NPROC] = (int(limits["max_processes"]),) * 2
    for which, (soft, hard) in wanted.items():
        _, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY:
            hard = min(hard, current_hard)
            soft = min(soft, hard)
        resource.setrlimit(which, (soft, hard))


def read_line(fd: int, max_bytes: int) -> tuple[bytes | None, bytes]:
    """Blocking read of one line before the event loop runs (the load op): (line or None on EOF/oversize, rest)."""
    buffer = bytearray()
    while b"\n" not in buffer:
        chunk = os.read(fd, 1 << 16)
        if not chunk or len(buffer) > max_bytes:
            return None, b""
        buffer.extend(chunk)
    end = buffer.index(b"\n")
    return bytes(buffer[:end]), bytes(buffer[end + 1 :])


def clean_filename(name: object) -> str:
    """The learner file name shown in tracebacks: a short basename ending in .py."""
    text = str(name or "consumer.py").rsplit("/", 1)[-1][:64]
    return text if text.endswith(".py") and len(text) > 3 else "consumer.py"


def code_root() -> str:
    """The sys.path entry this package was imported from (the copy of `inside` and `shared`)."""
    path = os.path.abspath(__file__)
    for _ in range(__name__.count(".") + 1):
        path = os.path.dirname(path)
    return path


def main(argv: list[str]) -> None:
    """Set up, preload, wait for code, run it."""
    args = parse_args(argv)
    in_fd, out_fd = int(args["in"]), int(args["out"])
    limits = json.loads(args["limits"])
    mode = args.get("mode", "root" if "uid" in args else "userns")
    close_inherited_fds({0, 1, 2, in_fd, out_fd})
    try:
        if "uid" in args:
            drop_privileges(int(args["uid"]), int(args["gid"]))
        else:
            import ctypes

            set_no_new_privs(ctypes.CDLL(None, use_errno=True))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversize writes fail with EFBIG instead of killing
        apply_rlimits(limits, limit_processes=mode != "development")
    except Exception as exc:  # noqa: BLE001 - any setup failure must be reported, then stop
        write_raw(out_fd, {"type": "error", "message": f"sandbox setup failed: {type(exc).__name__}: {exc}"})
        os._exit(protocol.EXIT_SETUP_FAILED)
    root = code_root()
    sys.path[:] = [root, *[p for p in sys.path if p and p != root], args["env"]]
    import threading

    threading.stack_size(THREAD_STACK_BYTES)
    from . import appload, driver, tracing

    appload.preload(args["env"], args.get("preload", "minimal"))
    # The host counts exactly; this cap only backs it up (sync replies and drops are not counted there).
    emitter = tracing.Emitter(out_fd, 2 * int(limits["max_events"]) + 100)
    emitter.emit({"type": protocol.READY, "preload": args.get("preload", "minimal"), "python": sys.version.split()[0]})
    line, rest = read_line(in_fd, 8 * int(limits["max_code_bytes"]) + 65536)
    op = json.loads(line) if line else {"type": protocol.STOP}
    if not isinstance(op, dict) or op.get("type") != protocol.LOAD or not isinstance(op.get("code"), str):
        os._exit(protocol.EXIT_OK)
    filename = clean_filename(op.get("filename"))
    tracer = tracing.Tracer(emitter, filename)
    drv = driver.Driver(tracer, int(limits["max_message_bytes"]), float(limits.get("handshake_timeout_seconds", 5.0)))
    drv.install()

    def tracer_ref() -> tuple[tracing.Tracer, Any] | None:
        return tracer, tracing.CURRENT_CLIENT.get()

    sys.stdout = tracing.TracedStream(1, "stdout", tracer_ref)
    sys.stderr = tracing.TracedStream(2, "stderr", tracer_ref)
    try:
        drv.loaded = appload.load_learner(op["code"], filename, tracer)
    except appload.LoadError as exc:
        emitter.emit(
            {
                "type": protocol.ERROR,
                "client": None,
                "method": None,
                "message": exc.message,
                "traceback": exc.traceback,
                "line": exc.line,
            }
        )
        os._exit(protocol.EXIT_LOAD_ERROR)
    except MemoryError:
        emitter.limit("memory", "loading the code ran out of memory (address-space limit)")
    loaded = drv.loaded
    emitter.emit({"type": protocol.LOADED, "mode": loaded.mode, "consumers": loaded.consumers, "routes": loaded.routes})
    drv.diagnostics.static_notes(op["code"])
    # From here on a CPU limit names the handler and line still running (module code keeps the kernel's default:
    # a Python handler would run only after a long C call returns, leaving the kill to the hard limit a second later).
    signal.signal(signal.SIGXCPU, lambda signum, frame: cpu_exhausted(drv, frame, int(limits["cpu_seconds"])))
    import asyncio

    try:
        asyncio.run(serve(drv, in_fd, limits, rest))
    except MemoryError:
        emitter.limit("memory", "the run ran out of memory (address-space limit)")
    except BaseException as exc:  # noqa: BLE001 - e.g. a learner KeyboardInterrupt reaching the loop
        emitter.emit(
            {
                "type": protocol.ERROR,
                "client": None,
                "message": f"the sandbox stopped: {type(exc).__name__}: {exc}"[:1000],
            }
        )
        os._exit(protocol.EXIT_SETUP_FAILED)
    os._exit(protocol.EXIT_OK)


def cpu_exhausted(drv: Driver, frame: Any, cpu_seconds: int) -> None:
    """SIGXCPU (RLIMIT_CPU's soft limit): report the limit with the learner's method and line running, then end."""
    filename = drv.tracer.filename
    while frame is not None and frame.f_code.co_filename != filename:
        frame = frame.f_back
    where = ""
    if frame is not None:
        import linecache

        source = linecache.getline(filename, frame.f_lineno).strip()[:60]
        where = f": {frame.f_code.co_name}() was still running line {frame.f_lineno} ({source})"
    drv.tracer.emitter.limit("cpu", f"the run used its {cpu_seconds} s of CPU{where}")


async def serve(drv: Driver, in_fd: int, limits: dict[str, int], pending: bytes = b"") -> None:
    """Read ops from the host on a thread and apply them in order on the loop; stop or EOF ends the run.

    The thread keeps reading while a handler holds the loop, so a client that connects meanwhile is shown (waiting)
    at once; at most MAX_QUEUED_OPS wait for the loop, after which the pipe fills and the host notices."""
    import asyncio
    import threading

    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()
    max_line = 8 * int(limits["max_message_bytes"]) + 65536
    tracer = drv.tracer
    room = threading.Semaphore(MAX_QUEUED_OPS)

    def stop() -> None:
        os._exit(protocol.EXIT_OK)  # the host kills the namespace anyway; never wait for learner tasks

    async def sync(op: dict[str, Any]) -> None:
        try:
            timeout = min(max(float(op.get("timeout", 1.0)), 0.0), 30.0)
        except (TypeError, ValueError):
            timeout = 1.0
        idle = await drv.settle(timeout)
        tracer.emitter.emit({"type": protocol.SYNCED, "id": str(op.get("id", ""))[:64], "idle": idle})

    def handle_op(op: Any) -> None:
        room.release()
        if op is None:
            tracer.problem(None, "the sandbox received an operation that is not JSON")
            return
        kind = op.get("type") if isinstance(op, dict) else None
        if kind == protocol.SYNC:
            loop.create_task(sync(op))
        elif kind == protocol.PAUSE and isinstance(op.get("on"), bool):
            drv.pauser.set(op["on"])
        elif kind == protocol.STEP:
            drv.pauser.step()
        else:
            drv.handle(op)

    def read_ops() -> None:
        buffer = bytearray(pending)
        while True:
            while (end := buffer.find(b"\n")) >= 0:
                line = bytes(buffer[:end])
                del buffer[: end + 1]
                try:
                    op = json.loads(line)
                except ValueError:
                    op = None
                if isinstance(op, dict) and op.get("type") == protocol.STOP:
                    stop()
                drv.arriving(op)  # while a handler holds the loop, says what this op waits for
                room.acquire()
                loop.call_soon_threadsafe(handle_op, op)
            if len(buffer) > max_line:
                tracer.problem(None, "an operation exceeded the size limit")
                stop()
            try:
                chunk = os.read(in_fd, 1 << 16)
            except InterruptedError:
                continue
            if not chunk:
                stop()
            buffer.extend(chunk)

    threading.Thread(target=read_ops, name="playground-ops", daemon=True).start()
    await finished
