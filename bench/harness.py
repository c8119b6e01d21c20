"""Shared benchmark plumbing: a production-like Daphne on loopback, wrk runs, and result files."""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from httpclient import HttpConnection  # noqa: E402

from tests.conftest import free_port, production_env, wait_for_http  # noqa: E402


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def site_process(env: dict[str, str], log_path: Path, *args: str, preexec_fn: Callable[[], None] | None = None):
    """`python ARGS` of the site (a Daphne, a worker) in a session of its own, so that stopping it stops its sandboxes
    too; its output is appended to `log_path`."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec_fn,
        )


def daphne_args(port: int, server: tuple[str, ...] = ("-m", "config.serve")) -> list[str]:
    """The site's Daphne on 127.0.0.1:`port` (`server` says how Python starts it: a profiling wrapper may stand in)."""
    return [*server, "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]


@contextmanager
def daphne_process(
    extra_env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
    server: tuple[str, ...] = ("-m", "config.serve"),
):
    """Migrate a fresh data folder, collect static files and serve with Daphne; yields (url, env, process)."""
    with tempfile.TemporaryDirectory(prefix="academy-bench-") as data_dir:
        env = production_env(Path(data_dir), **(extra_env or {}))
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        port = free_port()
        proc = site_process(env, Path(data_dir) / "daphne.log", *daphne_args(port, server), preexec_fn=preexec_fn)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for_http(url + "/healthz", proc)
            yield url, env, proc
        finally:
            stop_process(proc)


@contextmanager
def daphne_server(extra_env: dict[str, str] | None = None):
    """A benchmark's Daphne when only its URL and environment matter; yields (url, env)."""
    with daphne_process(extra_env) as (url, env, _):
        yield url, env


def server_log(env: dict[str, str]) -> str:
    """What the Daphne of a daphne_process has logged so far, for a benchmark that explains failures from it."""
    return (Path(env["DJANGO_DATA_DIR"]) / "daphne.log").read_text(errors="replace")


def stop_process(proc: subprocess.Popen, grace: float = 10) -> None:
    """Terminate, and kill what is still running after the grace period (a server with many sockets may dawdle)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def raise_fd_limit() -> None:
    """Soft open-file limit up to the hard one: thousands of sockets need more than the usual 1,024."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rollup_kib(pid: int, field: str) -> int:
    """One figure of a process's /proc/PID/smaps_rollup (Rss, Pss, ...), in KiB."""
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU of these processes and of their children they reaped (sandboxes), in seconds."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    """A process's direct children (nginx's workers, say)."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def starter(name: str) -> str:
    """A playground starter's code, as the page sends it in a `run` message."""
    return (ROOT / "content" / "starters" / f"{name}.py").read_text()


def session_cookie(env: dict[str, str], username: str) -> str:
    """A signed-in session for a new user, as the Cookie header value."""
    code = (
        "from django.contrib.auth import get_user_model, SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY;"
        "from django.contrib.sessions.backends.db import SessionStore;"
        f"u = get_user_model().objects.create_user({username!r}, password='bench-pass-12345');"
        "s = SessionStore(); s[SESSION_KEY] = str(u.pk);"
        "s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend';"
        "s[HASH_SESSION_KEY] = u.get_session_auth_hash(); s.save(); print(s.session_key)"
    )
    return "sessionid=" + manage(env, "shell", "--no-imports", "-c", code).strip()


def make_sessions(env: dict[str, str], count: int) -> list[str]:
    """Session keys of `count` new learners; no passwords, since hashing 200 of them would take a minute."""
    code = (
        "import json; from django.contrib.auth import get_user_model, SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY;"
        "from django.contrib.sessions.backends.db import SessionStore; keys = []\n"
        f"for i in range({count}):\n"
        "    u = get_user_model().objects.create_user(f'bench{i}')\n"
        "    s = SessionStore(); s[SESSION_KEY] = str(u.pk); s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'\n"
        "    s[HASH_SESSION_KEY] = u.get_session_auth_hash(); s.save(); keys.append(s.session_key)\n"
        "print(json.dumps(keys))"
    )
    return json.loads(manage(env, "shell", "--no-imports", "-c", code))


def csrf_connection(url: str, session: str) -> tuple[HttpConnection, dict[str, str]]:
    """A signed-in keep-alive connection with a CSRF cookie, and the header every POST must echo it in."""
    csrf = secrets.token_hex(16)
    return HttpConnection(url, {"sessionid": session, "csrftoken": csrf}), {"X-CSRFToken": csrf}


async def start_attempt(conn: HttpConnection, topic: str, headers: dict[str, str]) -> tuple[int, dict[str, list[str]]]:
    """Start a test-mode attempt (its answers may change); returns its id and each question's choice keys."""
    status, response_headers, _ = await conn.request("POST", f"/quizzes/{topic}/", {"mode": "test"}, headers)
    if status != 302:
        raise RuntimeError(f"starting a {topic} attempt returned {status}")
    attempt_path = response_headers["location"]
    attempt_id = int(re.search(r"/attempt/(\d+)/", attempt_path).group(1))
    _, _, page = await conn.request("GET", attempt_path)
    html = page.decode()
    questions = list(dict.fromkeys(re.findall(r'name="question" value="([^"]+)"', html)))
    return attempt_id, {qid: re.findall(rf'id="q{n}-([a-z])"', html) for n, qid in enumerate(questions, start=1)}


async def answer_question(
    conn: HttpConnection, attempt_id: int, question: str, choice: str, headers: dict[str, str]
) -> int:
    """Submit one answer as the page's htmx form does; returns the HTTP status."""
    status, _, _ = await conn.request(
        "POST",
        f"/quizzes/attempt/{attempt_id}/answer/",
        {"question": question, "choice": choice},
        {**headers, "HX-Request": "true"},
    )
    return status


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile, taking the nearest of the sorted samples."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def wrk(url: str, *, connections: int, seconds: int, headers: dict[str, str] | None = None) -> dict[str, float]:
    """Run wrk against a loopback URL; returns requests/s and p50/p99 latency in ms."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("benchmarks only target loopback")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def percentile(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {
        "rps": rate,
        "p50": percentile("50"),
        "p99": percentile("99"),
        "non2xx": int(errors.group(1)) if errors else 0,
    }


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each wrk figure's median over interleaved rounds (non-2xx responses summed)."""
    merged = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    return {**merged, "non2xx": sum(run["non2xx"] for run in runs)}


def check_ok(url: str, headers: dict[str, str] | None = None) -> None:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}")


def machine_line() -> str:
    import django

    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, Django {django.get_version()}"


def write_results(path: Path, title: str, command: str, rows: list[tuple[str, str, str, str]], notes: str = "") -> None:
    """A Markdown table of figure, value, goal and verdict, with the command that produced it."""
    lines = [
        f"# {title}",
        "",
        f"- Measured: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {machine_line()}",
        f"- Command: `{command}`",
        "",
        "| figure | measured | goal | verdict |",
        "| --- | --- | --- | --- |",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
    ]
    if notes:
        lines += [notes.strip(), ""]
    path.write_text("\n".join(lines))
    print("\n".join(lines))


def settle(seconds: float = 0.5) -> None:
    time.sleep(seconds)
