"""Escape attempts: host files, secrets, descriptors, network, exec, signals, kernel interfaces. All must fail inside."""

from __future__ import annotations

import json
import os
import secrets
import socket

import pytest

from playground.sandbox.host.options import PROJECT_ROOT
from tests.sandbox.support import CANARY_ENV, final, output

from .conftest import SYSCALL_HELPER, probe

pytestmark = pytest.mark.asyncio(loop_scope="session")


def results(events) -> dict[str, str]:
    """RESULT name value lines printed by the probe code."""
    found = {}
    for line in output(events).splitlines():
        if line.startswith("RESULT "):
            _, name, value = line.split(" ", 2)
            found[name] = value
    return found


ATTEMPT = """
def attempt(name, action):
    try:
        value = action()
    except BaseException as exc:
        print("RESULT", name, "denied", type(exc).__name__, getattr(exc, "errno", ""), flush=True)
    else:
        print("RESULT", name, "ALLOWED", repr(value)[:100], flush=True)

def read(path):
    with open(path, "rb") as handle:
        return handle.read(100)
"""


async def test_host_etc_passwd_and_shadow_are_not_visible(attack):
    code = probe(ATTEMPT + 'attempt("passwd", lambda: read("/etc/passwd"))\nattempt("shadow", lambda: read("/etc/shadow"))\n'
                 'print("RESULT etc", os.path.exists("/etc"), flush=True)\nimport os\n')  # fmt: skip
    found = results(await attack("import os\n" + code))
    assert found["passwd"].startswith("denied FileNotFoundError") and found["shadow"].startswith("denied")
    assert found["etc"] == "False"


async def test_project_settings_file_is_not_visible(attack):
    settings = str(PROJECT_ROOT / "config" / "settings.py")
    code = probe(ATTEMPT + f"attempt('settings', lambda: read({settings!r}))\n"
                 f"attempt('project', lambda: __import__('os').listdir({str(PROJECT_ROOT)!r}))\n")  # fmt: skip
    found = results(await attack(code))
    assert found["settings"].startswith("denied") and found["project"].startswith("denied")


async def test_server_environment_canary_is_invisible(attack):
    code = probe("import os\nprint('RESULT env', sorted(os.environ.items()), flush=True)\n")
    events = await attack(code)
    assert results(events)["env"] == "[('MALLOC_ARENA_MAX', '1'), ('PWD', '/tmp')]"  # set by bwrap, nothing inherited
    assert os.environ[CANARY_ENV] not in json.dumps(events)  # also asserted by the fixture for every case


async def test_proc_environ_of_every_process_hides_the_canary(attack):
    code = probe(
        ATTEMPT
        + """
import os
for pid in sorted(p for p in os.listdir("/proc") if p.isdigit()):
    try:
        print("ENV", pid, read("/proc/%s/environ" % pid), flush=True)
    except OSError as exc:
        print("ENV", pid, "unreadable", exc.errno, flush=True)
attempt("init_environ", lambda: read("/proc/1/environ"))
"""
    )
    events = await attack(code)
    assert results(events)["init_environ"].startswith("denied PermissionError")


async def test_listing_root_and_proc_shows_only_the_sandbox(attack):
    code = probe(
        """
import os
print("RESULT root", json.dumps(sorted(os.listdir("/"))), flush=True)
print("RESULT pids", json.dumps(sorted(int(p) for p in os.listdir("/proc") if p.isdigit())), flush=True)
print("RESULT sandbox", json.dumps(sorted(os.listdir("/sandbox"))), flush=True)
import json
""".replace("import os\n", "import os, json\n")
    )
    found = results(await attack(code))
    assert set(json.loads(found["root"])) <= {"usr", "lib", "lib64", "tmp", "proc", "dev", "sandbox"}
    assert max(json.loads(found["pids"])) < 10  # a pid namespace of its own
    assert json.loads(found["sandbox"]) == ["env", "harness"]


async def test_only_protocol_descriptors_are_inherited(attack):
    code = probe(
        """
import os
fds = {}
for fd in os.listdir("/proc/self/fd"):
    try:
        fds[int(fd)] = os.readlink("/proc/self/fd/" + fd)
    except OSError:
        pass  # the descriptor listdir itself used
print("RESULT fds", json.dumps(sorted(fds)), flush=True)
print("RESULT kinds", json.dumps(sorted(t.split(":")[0] for t in fds.values())), flush=True)
""".replace("import os\n", "import os, json\n")
    )
    found = results(await attack(code))
    assert len(json.loads(found["fds"])) == 5  # stdin, stdout, stderr and the two protocol pipes
    assert json.loads(found["kinds"]) == ["/dev/null", "pipe", "pipe", "pipe", "pipe"]


@pytest.mark.parametrize("host, port", [("1.1.1.1", 80), ("127.0.0.1", 6379), ("127.0.0.1", 5432), ("::1", 5432)])
async def test_network_connections_are_impossible(attack, host, port):
    code = probe(
        ATTEMPT
        + f"import socket\nattempt('connect', lambda: socket.create_connection(({host!r}, {port}), timeout=2))\n"
    )
    assert results(await attack(code))["connect"].startswith("denied")


async def test_host_web_server_is_unreachable(attack):
    listener = socket.socket()
    listener.bind(("0.0.0.0", 0))
    listener.listen(4)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        code = probe(ATTEMPT + "import socket, urllib.request\n"
                     f"attempt('tcp', lambda: socket.create_connection(('127.0.0.1', {port}), timeout=2))\n"
                     f"attempt('http', lambda: urllib.request.urlopen('http://127.0.0.1:{port}/', timeout=2))\n")  # fmt: skip
        found = results(await attack(code))
        assert found["tcp"].startswith("denied") and found["http"].startswith("denied")
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever arrived
    finally:
        listener.close()


async def test_dns_lookups_fail(attack):
    code = probe(ATTEMPT + "import socket\nattempt('dns', lambda: socket.getaddrinfo('example.com', 443))\n")
    assert results(await attack(code))["dns"].startswith("denied")


async def test_only_unix_sockets_can_be_created(attack):
    code = probe(
        ATTEMPT
        + """
import socket
attempt("inet", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
attempt("inet6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
attempt("netlink", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0))
attempt("packet", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0))
"""
    )
    found = results(await attack(code))
    for name in ("inet", "inet6", "netlink", "packet"):
        assert found[name].startswith("denied OSError 97"), (name, found[name])  # EAFNOSUPPORT


async def test_unix_sockets_to_host_paths_fail(attack, tmp_path):
    path = str(tmp_path / "host.sock")
    abstract = "\0hostile-" + secrets.token_hex(4)
    listeners = []
    for address in (path, abstract):
        server = socket.socket(socket.AF_UNIX)
        server.bind(address)
        server.listen(1)
        server.setblocking(False)
        listeners.append(server)
    try:
        code = probe(
            ATTEMPT
            + f"""
import socket
def reach(address):
    client = socket.socket(socket.AF_UNIX)
    client.connect(address)
    return client
attempt("path", lambda: reach({path!r}))
attempt("abstract", lambda: reach({abstract!r}))
attempt("docker", lambda: reach("/var/run/docker.sock"))
attempt("journal", lambda: reach("/run/systemd/journal/socket"))
"""
        )
        found = results(await attack(code))
        assert all(found[k].startswith("denied") for k in ("path", "abstract", "docker", "journal")), found
        for server in listeners:
            with pytest.raises(BlockingIOError):
                server.accept()
    finally:
        for server in listeners:
            server.close()


async def test_exec_of_a_shell_fails(attack):
    code = probe(
        ATTEMPT
        + """
import os, subprocess
attempt("subprocess", lambda: subprocess.run(["/bin/sh", "-c", "id"]))
attempt("execv", lambda: os.execv("/bin/sh", ["sh"]))
attempt("usr_bin", lambda: os.listdir("/usr/bin"))
"""
    )
    found = results(await attack(code))
    assert found["subprocess"].startswith("denied FileNotFoundError")
    assert found["execv"].startswith("denied FileNotFoundError")
    assert found["usr_bin"].startswith("ALLOWED ['python3")


async def test_killing_the_parent_and_pid_one_is_denied(attack):
    code = probe(
        ATTEMPT
        + """
import os, signal
attempt("parent", lambda: os.kill(os.getppid(), signal.SIGKILL))
attempt("pid1", lambda: os.kill(1, signal.SIGKILL))
print("RESULT ppid", os.getppid(), flush=True)
"""
    )
    found = results(await attack(code))
    assert found["parent"].startswith("denied PermissionError") and found["pid1"].startswith("denied PermissionError")
    assert found["ppid"] == "1"


async def test_killing_host_pids_is_impossible(attack, bystander):
    targets = {"server": os.getpid(), "bystander": bystander.sandbox.pid}
    code = probe(
        ATTEMPT
        + "import os, signal\n"
        + "".join(f"attempt({name!r}, lambda: os.kill({pid}, signal.SIGKILL))\n" for name, pid in targets.items())
    )
    found = results(await attack(code))
    assert found["server"].startswith("denied ProcessLookupError") and found["bystander"].startswith("denied")


async def test_kill_minus_one_reaches_only_this_run(attack):
    code = probe("""
import os, signal, time
child = os.fork()
if child == 0:
    time.sleep(60)
    os._exit(0)
os.kill(-1, signal.SIGKILL)  # every process this uid may signal: only the run's own child
print("RESULT child", os.waitpid(child, 0)[1], flush=True)
""")
    events = await attack(code)
    assert results(events)["child"] == "9" and final(events)["reason"] == "stopped"
    # the attack fixture has just checked that the bystander sandbox still echoes


async def test_ptrace_is_denied(attack):
    code = probe(
        SYSCALL_HELPER
        + """
print("RESULT traceme", syscall(101, 0, 0, 0, 0), flush=True)
print("RESULT attach", syscall(101, 16, 1, 0, 0), flush=True)
"""
    )
    found = results(await attack(code))
    assert found["traceme"] == "(-1, 1)" and found["attach"] == "(-1, 1)"  # EPERM


SYSCALLS = {
    "unshare_user": "syscall(272, 0x10000000)",
    "unshare_mount": "syscall(272, 0x00020000)",
    "setns": "syscall(308, 0, 0)",
    "mount": "syscall(165, 0, 0, 0, 0, 0)",
    "umount": "syscall(166, 0, 0)",
    "bpf": "syscall(321, 0, 0, 0)",
    "keyctl": "syscall(250, 0, 0, 0, 0, 0)",
    "add_key": "syscall(248, 0, 0, 0, 0, 0)",
    "perf_event_open": "syscall(298, 0, 0, 0, 0, 0)",
    "userfaultfd": "syscall(323, 0)",
    "io_uring_setup": "syscall(425, 1, 0)",
    "personality": "syscall(135, 0x0040000)",
    "init_module": "syscall(175, 0, 0, 0)",
    "kexec_load": "syscall(246, 0, 0, 0, 0)",
    "clone_newuser": "syscall(56, 0x10000000 | 17, 0, 0, 0, 0)",
}


@pytest.mark.parametrize("name", sorted(SYSCALLS))
async def test_kernel_and_namespace_syscalls_are_denied(attack, name):
    code = probe(SYSCALL_HELPER + f"print('RESULT call', {SYSCALLS[name]}, flush=True)\n")
    assert results(await attack(code))["call"] == "(-1, 1)"  # EPERM from the seccomp filter


async def test_clone3_reports_enosys_so_threads_still_work(attack):
    code = probe(
        SYSCALL_HELPER
        + """
import threading
print("RESULT clone3", syscall(435, 0, 0), flush=True)
worker = threading.Thread(target=lambda: print("RESULT thread ran", flush=True))
worker.start(); worker.join()
"""
    )
    found = results(await attack(code))
    assert found["clone3"] == "(-1, 38)" and found["thread"] == "ran"


async def test_x32_abi_syscalls_do_not_bypass_the_filter(attack):
    code = probe(
        SYSCALL_HELPER
        + """
import os
pid = os.fork()
if pid == 0:
    result = syscall(0x40000000 | 272, 0x10000000)
    print("RESULT child", result, flush=True)
    os._exit(0)
print("RESULT status", os.waitpid(pid, 0)[1], flush=True)
"""
    )
    found = results(await attack(code))
    assert "child" not in found and found["status"] == "31"  # the filter kills x32 callers with SIGSYS


async def test_regaining_root_is_denied(attack):
    code = probe(
        ATTEMPT
        + """
import os
attempt("setuid", lambda: os.setuid(0))
attempt("setgid", lambda: os.setgid(0))
status = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
print("RESULT caps", status["CapEff"].strip(), status["CapBnd"].strip(), status["NoNewPrivs"].strip(), flush=True)
print("RESULT uid", os.getuid(), flush=True)
"""
    )
    found = results(await attack(code))
    assert found["setuid"].startswith("denied PermissionError") and found["setgid"].startswith("denied")
    assert found["caps"] == "0000000000000000 0000000000000000 1"
    assert int(found["uid"]) >= 200_000


async def test_system_files_are_read_only(attack):
    code = probe(
        ATTEMPT
        + """
attempt("stdlib", lambda: open("/usr/lib/python3.11/os.py", "a"))
attempt("env", lambda: open("/sandbox/env/channels/__init__.py", "a"))
attempt("root", lambda: open("/evil", "w"))
attempt("dev", lambda: open("/dev/evil", "w"))
"""
    )
    found = results(await attack(code))
    assert all(found[k].startswith("denied") for k in ("stdlib", "env", "root", "dev")), found
