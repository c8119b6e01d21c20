"""Pure units of the sandbox engine: limits, policy argv, seccomp, env build, protocol checks, import hygiene."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from playground.sandbox import SandboxLimits, SandboxOptions
from playground.sandbox.host import envbuild, policy, seccomp_filter
from playground.sandbox.host.options import PROJECT_ROOT
from playground.sandbox.shared import protocol


def test_limits_from_mapping_overrides_and_rejects_unknown_names():
    assert SandboxLimits.from_mapping({"cpu_seconds": 2}).cpu_seconds == 2
    with pytest.raises(ValueError, match="unknown sandbox limit"):
        SandboxLimits.from_mapping({"cpu_secs": 2})
    with pytest.raises(ValueError, match="positive"):
        SandboxLimits(max_clients=0)


def test_limits_defaults_match_the_brief():
    limits = SandboxLimits()
    assert (limits.cpu_seconds, limits.lifetime_seconds, limits.idle_seconds) == (5, 900, 180)
    assert (limits.memory_bytes, limits.max_processes, limits.file_size_bytes) == (128 << 20, 32, 1 << 20)
    assert (limits.open_files, limits.output_bytes_per_minute, limits.max_events) == (64, 1_000_000, 10_000)
    assert (limits.max_message_bytes, limits.max_clients, limits.tmpfs_bytes) == (64 << 10, 20, 8 << 20)


def _bwrap_argv(uid: int | None = 200_123) -> list[str]:
    harness = policy.prepare_harness_dir("/usr/bin/python3")
    return policy.bwrap_command(
        SandboxOptions(), SandboxLimits(), harness_dir=harness, in_fd=10, out_fd=11, seccomp_fd=12, info_fd=13, uid=uid
    )


def test_bwrap_command_isolates_every_namespace_and_the_filesystem():
    argv = _bwrap_argv()
    for flag in (
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--die-with-parent",
        "--new-session",
    ):
        assert flag in argv
    assert "--share-net" not in argv and "--bind" not in argv and "--dev-bind" not in argv
    assert argv[argv.index("--seccomp") + 1] == "12"
    assert ["--remount-ro", "/"] == argv[argv.index("--remount-ro", argv.index("--tmpfs")) :][:2]
    binds = [argv[i + 1] for i, a in enumerate(argv) if a == "--ro-bind"]
    under_project = [b for b in binds if b == str(PROJECT_ROOT) or b.startswith(str(PROJECT_ROOT) + "/")]
    assert under_project == [str(envbuild.DEFAULT_ENV_DIR)]  # the package env only, never the project
    assert not any(b.startswith(("/etc", "/home", "/root", "/var", "/run")) for b in binds)
    tail = argv[argv.index("--") + 1 :]
    assert tail[1:5] == ["-I", "-S", "-B", "-X"] and tail[tail.index("--uid") + 1] == "200123"


def test_bwrap_command_root_mode_keeps_only_setuid_capabilities():
    argv = _bwrap_argv()
    added = [argv[i + 1] for i, a in enumerate(argv) if a == "--cap-add"]
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    assert sorted(added) == ["CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID"]


def test_bwrap_parent_directories_are_created_world_readable():
    argv = _bwrap_argv()
    created = [argv[i + 3] for i, a in enumerate(argv) if a == "--perms" and argv[i + 2] == "--dir"]
    assert "/usr" in created and "/sandbox" in created
    assert all(argv[argv.index(d) - 2] == "0755" for d in created)


def test_seccomp_filter_compiles_to_bpf():
    program = seccomp_filter.seccomp_bpf()
    assert program and len(program) % 8 == 0
    fd = seccomp_filter.seccomp_fd()
    try:
        assert os.read(fd, len(program) + 1) == program
    finally:
        os.close(fd)


def test_harness_copy_holds_only_the_in_sandbox_packages():
    folder = Path(policy.prepare_harness_dir("/usr/bin/python3"))
    copied = sorted(p.relative_to(folder) for p in folder.rglob("*.py"))
    package = Path("playground", "sandbox")
    expected = sorted(
        package / name / p.name for name in ("inside", "shared") for p in (policy.SANDBOX_PACKAGE / name).glob("*.py")
    )
    assert copied == expected
    assert all(stat.S_IMODE(d.stat().st_mode) == 0o755 for d in [folder, *folder.rglob("*")] if d.is_dir())
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in folder.rglob("*") if p.is_file())


def test_bwrap_binds_the_harness_packages_as_folders():
    harness = policy.prepare_harness_dir("/usr/bin/python3")
    argv = _bwrap_argv()
    binds = {argv[i + 2]: argv[i + 1] for i, a in enumerate(argv) if a == "--ro-bind"}
    for name in ("inside", "shared"):
        assert binds[f"/sandbox/harness/playground/sandbox/{name}"] == f"{harness}/playground/sandbox/{name}"
    assert not any(inside.startswith("/sandbox/harness/playground/sandbox/host") for inside in binds)


def test_envbuild_is_idempotent_and_pinned():
    assert envbuild.build() is False
    pins = envbuild.requirement_pins()
    assert "Django==5.2.19" in pins and "channels==4.3.2" in pins
    assert envbuild.is_current(envbuild.DEFAULT_ENV_DIR, pins)


def test_envbuild_output_is_world_readable():
    for dirpath, _dirnames, filenames in os.walk(envbuild.DEFAULT_ENV_DIR):
        assert stat.S_IMODE(os.stat(dirpath).st_mode) & 0o005 == 0o005, dirpath
        for name in filenames:
            mode = stat.S_IMODE(os.lstat(os.path.join(dirpath, name)).st_mode)
            assert mode & 0o004 and not mode & 0o022, (dirpath, name)


def test_env_problem_names_a_missing_env(tmp_path):
    assert "missing" in envbuild.env_problem(tmp_path)
    assert envbuild.env_problem(envbuild.DEFAULT_ENV_DIR) is None


def test_check_op_refuses_bad_input():
    limit = 10
    assert protocol.check_op({"type": "receive", "client": "c1", "text": "x"}, limit)  # an old name is unknown
    assert protocol.check_op({"type": "pause"}, limit) == "pause needs on: true or false"
    assert protocol.check_op({"type": "pause", "on": True}, limit) is None
    assert protocol.check_op({"type": "step"}, limit) is None
    assert protocol.check_op({"type": "client.connect", "client": "bad id!"}, limit)
    assert protocol.check_op({"type": "client.connect", "client": "c1", "path": "no-slash"}, limit)
    assert protocol.check_op({"type": "client.send", "client": "c1", "text": "x", "bytes": "eA=="}, limit)
    assert protocol.check_op({"type": "client.send", "client": "c1", "bytes": "***"}, limit)
    assert protocol.check_op({"type": "client.close", "client": "c1", "code": 999}, limit)
    assert protocol.check_op({"type": "client.send", "client": "c1", "text": "x" * 11}, limit)
    assert protocol.check_op({"type": "client.send", "client": "c1", "text": "x" * 10}, limit) is None


@pytest.mark.parametrize(
    "raw",
    [
        [],
        {"type": "exit", "reason": "stopped"},
        {"type": "output", "stream": "stdout", "text": "x"},
        {"type": "consumer.send", "client": "ghost", "text": "x"},
        {"type": "consumer.send", "client": "c1"},
        {"type": "consumer.close", "client": "c1", "code": "1000", "by": "server"},
        {"type": "trace", "step": 1, "t": 0, "kind": "teleport", "action": "", "evaluation": "", "result": "",
         "state": "open", "vars": {}, "groups": []},
        {"type": "limit", "what": "everything"},
    ],
)  # fmt: skip
def test_sanitize_event_rejects_what_the_sandbox_may_not_say(raw):
    with pytest.raises(protocol.ProtocolViolation):
        protocol.sanitize_event(raw, {"c1"})


def test_sanitize_event_drops_unknown_fields():
    clean = protocol.sanitize_event({"type": "consumer.send", "client": "c1", "text": "hi", "html": "<script>"}, {"c1"})
    assert clean == {"type": "consumer.send", "client": "c1", "text": "hi"}


def test_sandbox_package_imports_without_django():
    code = (
        "import sys; import playground.sandbox as s; from playground.sandbox.inside import harness, driver;"
        "from playground.sandbox.inside import tracing, appload, traced_layer;"
        "assert 'django' not in sys.modules, sorted(m for m in sys.modules if m.startswith('django'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, check=True)


def test_sanitize_event_checks_paused_and_resumed():
    paused = {"type": "paused", "id": 1, "client": "c1", "kind": "send", "action": "send()", "step": 3, "waiting": 1}
    assert protocol.sanitize_event(paused, {"c1"}) == paused
    for bad in ({**paused, "kind": "teleport"}, {**paused, "client": "ghost"}, {**paused, "id": "1"}):
        with pytest.raises(protocol.ProtocolViolation):
            protocol.sanitize_event(bad, {"c1"})
    assert protocol.sanitize_event({"type": "resumed", "id": 1, "by": "step", "waiting": 0}, set())["by"] == "step"
    with pytest.raises(protocol.ProtocolViolation):
        protocol.sanitize_event({"type": "resumed", "id": 1, "by": "magic", "waiting": 0}, set())


def test_sanitize_event_allows_a_topic_on_notes_only():
    row = {"type": "trace", "step": 1, "t": 0, "kind": "note", "action": "a", "evaluation": "e", "result": "r",
           "state": "open", "vars": {}, "groups": [], "topic": "blocking"}  # fmt: skip
    assert protocol.sanitize_event(row, set())["topic"] == "blocking"
    for bad in ({**row, "topic": "gossip"}, {**row, "kind": "send"}):
        with pytest.raises(protocol.ProtocolViolation):
            protocol.sanitize_event(bad, set())


def test_close_meaning_covers_standard_refused_and_application_codes():
    from playground.sandbox.inside.narration import close_meaning

    assert close_meaning(1000).startswith("normal closure")
    assert close_meaning(1001).startswith("going away")
    assert close_meaning(1006).startswith("abnormal closure")
    assert close_meaning(1011).startswith("server error")
    assert "handshake refused" in close_meaning(403)
    assert close_meaning(4000).startswith("application-defined") and close_meaning(4999).startswith("application")
    assert close_meaning(5000) == "not a standard close code"


def test_harness_copies_of_processes_that_are_gone_are_removed_and_others_kept(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    prefix = policy.HARNESS_DIR_PREFIX
    orphan = tmp_path / f"{prefix}{gone.pid}-abc123"
    live = tmp_path / f"{prefix}{os.getpid()}-def456"
    unnamed = tmp_path / f"{prefix}k2j4h5g6"  # no process id: left alone
    elsewhere = tmp_path / "kept-by-someone"
    linked = tmp_path / f"{prefix}{gone.pid}-link"  # a link is never followed
    for folder in (orphan, live, unnamed, elsewhere):
        (folder / "playground").mkdir(parents=True)
    linked.symlink_to(elsewhere)

    assert policy.remove_orphaned_harness_dirs(str(tmp_path)) == [str(orphan)]
    assert not orphan.exists()
    assert live.exists() and unnamed.exists() and (elsewhere / "playground").exists() and linked.is_symlink()


def test_a_process_makes_its_harness_copy_under_its_own_id():
    folder = Path(policy.prepare_harness_dir("/usr/bin/python3"))
    assert folder.name.startswith(f"{policy.HARNESS_DIR_PREFIX}{os.getpid()}-")
    assert policy.remove_orphaned_harness_dirs(str(folder.parent)).count(str(folder)) == 0
