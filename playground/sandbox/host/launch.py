"""Starts one sandbox process (bwrap + harness, or the development child) and hands back its pipes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
from dataclasses import dataclass, field

from ..shared import protocol
from ..shared.limits import SandboxLimits
from . import envbuild, policy, seccomp_filter, uids
from .options import SandboxOptions

NICE = "/usr/bin/nice"  # coreutils: lowers the priority, then execs the launcher in the same process


class SandboxStartError(RuntimeError):
    """The sandbox could not be started; the message says why in words an operator can act on."""


@dataclass
class Launched:
    """A started sandbox process with the host's ends of its pipes."""

    process: asyncio.subprocess.Process
    op_writer: asyncio.StreamWriter
    events: asyncio.StreamReader
    slot: uids.UidSlot | None
    init_pid: int | None = None  # bwrap's pid-1 helper (host pid); killing it tears the pid namespace down
    info: asyncio.BaseTransport | None = None  # bwrap's --info-fd pipe, closed only after the kill
    ready: dict[str, object] = field(default_factory=dict)


def prerequisite_problems(options: SandboxOptions) -> list[str]:
    """What is missing on this host for the chosen mode (empty when nothing is)."""
    problems = []
    if not os.path.exists(options.python):
        problems.append(f"the sandbox interpreter {options.python} is missing (apt-get install python3)")
    env = envbuild.env_problem(options.env_dir)
    if env:
        problems.append(env)
    if options.mode != "development":
        if not os.access(options.bwrap, os.X_OK):
            problems.append(
                f"bubblewrap is missing at {options.bwrap} (apt-get install bubblewrap): the playground cannot run"
            )
        try:
            seccomp_filter.seccomp_bpf()
        except seccomp_filter.SeccompUnavailable as exc:
            problems.append(f"cannot build the seccomp filter: {exc}")
    return problems


async def _connect_pipes(op_w: int, ev_r: int, max_line: int) -> tuple[asyncio.StreamWriter, asyncio.StreamReader]:
    """asyncio streams over the host's ends of the protocol pipes."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=max_line)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(ev_r, "rb", buffering=0))
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(op_w, "wb", buffering=0)
    )
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    return writer, reader


async def _read_info(info_r: int, timeout: float) -> tuple[int | None, asyncio.BaseTransport]:
    """bwrap's --info-fd JSON: the host pid of its pid-1 helper. The pipe stays open until the sandbox is
    killed: closing it early would kill bwrap with SIGPIPE on its next write."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(info_r, "rb", buffering=0)
    )
    data = b""
    try:
        async with asyncio.timeout(timeout):
            while chunk := await reader.read(65536):
                data += chunk
                with contextlib.suppress(ValueError):
                    return int(json.loads(data)["child-pid"]), transport
    except (TimeoutError, KeyError, TypeError):
        pass
    return None, transport


async def launch(limits: SandboxLimits, options: SandboxOptions) -> Launched:
    """Spawn the sandbox with an empty environment and only the protocol pipes inherited; wait for `ready`."""
    problems = await asyncio.to_thread(prerequisite_problems, options)
    if problems:
        raise SandboxStartError("; ".join(problems))
    mode = options.mode
    harness_dir = await asyncio.to_thread(policy.prepare_harness_dir, options.python)
    if mode != "development":
        await asyncio.to_thread(policy.resolve_runtime, options.python)  # ldd once per process, off the loop
    slot = await asyncio.to_thread(uids.acquire_uid, options.uid_base, options.uid_count) if mode == "root" else None
    op_r, op_w = os.pipe2(os.O_CLOEXEC)
    ev_r, ev_w = os.pipe2(os.O_CLOEXEC)
    child_fds = [op_r, ev_w]
    info_r = None
    try:
        if mode == "development":
            argv = policy.development_command(options, limits, harness_dir=harness_dir, in_fd=op_r, out_fd=ev_w)
        else:
            info_r, info_w = os.pipe2(os.O_CLOEXEC)
            seccomp = seccomp_filter.seccomp_fd()
            child_fds += [info_w, seccomp]
            argv = policy.bwrap_command(
                options, limits, harness_dir=harness_dir, in_fd=op_r, out_fd=ev_w,
                seccomp_fd=seccomp, info_fd=info_w, uid=slot.uid if slot else None,
            )  # fmt: skip
        env = {"MALLOC_ARENA_MAX": "1"} if mode == "development" else {}
        if options.niceness:
            argv = [NICE, "-n", str(options.niceness), *argv]  # nice execs the launcher: same process, lower priority
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=child_fds,
            close_fds=True,
            env=env,
            start_new_session=True,
            umask=0o022,
        )
    except BaseException:
        for fd in (op_r, op_w, ev_r, ev_w, *child_fds[2:], *([info_r] if info_r is not None else [])):
            with contextlib.suppress(OSError):
                os.close(fd)
        if slot is not None:
            await asyncio.to_thread(slot.release)
        raise
    for fd in child_fds:
        os.close(fd)
    writer, reader = await _connect_pipes(op_w, ev_r, limits.max_event_line_bytes)
    launched = Launched(process, writer, reader, slot)
    try:
        if info_r is not None:
            launched.init_pid, launched.info = await _read_info(info_r, limits.start_timeout_seconds)
        line = await asyncio.wait_for(reader.readline(), limits.start_timeout_seconds)
        ready = json.loads(line) if line else None
        if not isinstance(ready, dict) or ready.get("type") != protocol.READY:
            raise SandboxStartError(await _start_failure(process, ready))
        launched.ready = ready
    except (TimeoutError, ValueError, asyncio.LimitOverrunError) as exc:
        await kill(launched)
        raise SandboxStartError(f"the sandbox did not become ready: {type(exc).__name__}") from None
    except BaseException:
        await kill(launched)
        raise
    return launched


async def _start_failure(process: asyncio.subprocess.Process, first: object) -> str:
    """Explain a sandbox that died or spoke before `ready` (bwrap's own errors arrive on stderr)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), 2)
    stderr = b""
    if process.stderr is not None:
        with contextlib.suppress(TimeoutError):
            stderr = await asyncio.wait_for(process.stderr.read(4000), 1)
    detail = first.get("message") if isinstance(first, dict) else None
    text = (detail or stderr.decode("utf-8", "replace").strip() or f"exit status {process.returncode}")[:1000]
    return f"the sandbox failed to start: {text}"


async def kill(launched: Launched) -> None:
    """SIGKILL the whole sandbox: bwrap's pid 1 (the kernel then kills every process in the namespace), the
    process group, then reap; root mode finally kills anything left with the run's uid and frees the uid."""
    process = launched.process
    if launched.init_pid is not None and process.returncode is None:
        # Only while bwrap (its parent) is alive is the pid surely still the helper, not a reused number.
        with contextlib.suppress(OSError):
            stat = await asyncio.to_thread(_ppid, launched.init_pid)
            if stat == process.pid:
                os.kill(launched.init_pid, signal.SIGKILL)
                # bwrap reaps its helper and exits by itself; killing bwrap first would orphan the helper
                # to the host's pid 1, which in containers often never reaps it.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(process.wait()), 2.0)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    await process.wait()
    launched.op_writer.close()
    if launched.info is not None:
        launched.info.close()
    if launched.slot is not None:
        survivors = await asyncio.to_thread(launched.slot.release)
        if survivors:
            raise SandboxStartError(
                f"sandbox uid {launched.slot.uid} still has processes {survivors}; uid kept reserved"
            )


def _ppid(pid: int) -> int | None:
    from . import procs

    stat = procs.read_stat(pid)
    return stat.ppid if stat else None


def describe_exit(
    code: int, sandbox_limit: str | None, cpu_exhausted: bool, cpu_seconds: float
) -> tuple[str, str | None, str]:
    """(exit reason, limit name, detail) for a sandbox that ended by itself with launcher status `code`."""
    code = 128 - code if code < 0 else code  # development mode reports death by signal N as -N
    if code == 0:
        return "crashed", None, "the sandbox process exited by itself"
    if code == protocol.EXIT_LOAD_ERROR:
        return "error", None, "the code could not be loaded"
    if code == protocol.EXIT_LIMIT:
        return "limit", sandbox_limit or "memory", "reported by the sandbox"
    if code == 128 + signal.SIGXCPU or (code == 128 + signal.SIGKILL and cpu_exhausted):
        return "limit", "cpu", f"a process used its {cpu_seconds} s of CPU"
    if code == 128 + signal.SIGXFSZ:
        return "limit", "file_size", "a file grew past the size limit"
    if code > 128:
        number = code - 128
        name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
        return "crashed", None, f"the sandbox was killed by {name}"
    return "crashed", None, f"the sandbox exited with status {code}"
