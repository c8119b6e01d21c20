"""A mixed load: simulated learners reading lessons, answering quiz questions and running code, p99 per action.

Run: .venv/bin/python bench/mixed_bench.py [--learners 200 --seconds 40]
Writes bench/mixed_RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections import Counter
from pathlib import Path

import websockets
from harness import (
    ROOT,
    answer_question,
    csrf_connection,
    daphne_server,
    make_sessions,
    percentile,
    start_attempt,
    starter,
    write_results,
)

from tests.support.page_protocol import unbatch

LEARNERS = 200
SECONDS = 40.0  # learners start no new action after this
RAMP_SECONDS = 5.0  # learners arrive spread over this, not all in the same instant
THINK_SECONDS = (0.5, 2.0)
RUN_CHANCE = 0.25  # of a learner's rounds (read, answer) that also run code
ACTION_TIMEOUT = 15.0  # an action not done by then is a failure
TOPICS = sorted(path.stem for path in (ROOT / "content" / "quizzes").glob("*.yaml"))
ECHO_STARTER = starter("echo")
ECHO_PATH = "/ws/echo/"
ACTIONS = {
    # action: (what the row says, goal p99 in ms and where it comes from, or None)
    "read": ("read a lesson topic page (GET)", (50, "lessons_bench.py")),
    "answer": ("answer a quiz question (POST)", (50, "quiz_bench.py")),
    "run": ("run code: run -> echo received", None),
}


class RunEnded(Exception):
    """The run stopped (or was refused) before the step the learner was waiting for."""


async def until_page(page, wanted) -> dict:
    """Read page messages (batches opened) until one is `wanted`; a stop or an error on the way is a failure."""
    while True:
        for message in unbatch(json.loads(await page.recv())):
            if wanted(message):
                return message
            if message["type"] == "status" and message["state"] == "stopped":
                raise RunEnded(f"stopped: {message['reason']}")
            if message["type"] == "error":
                raise RunEnded(f"error: {str(message['message'])[:80]}")


class Learner:
    """One signed-in learner with a keep-alive HTTP connection, a test-mode quiz attempt and a playground tab."""

    def __init__(self, url: str, session: str, rng: random.Random, results: dict) -> None:
        self.url, self.session, self.rng, self.results = url, session, rng, results
        self.conn, self.headers = csrf_connection(url, session)
        self.topic = rng.choice(TOPICS)
        self.attempt: tuple[int, dict[str, list[str]]] | None = None
        self.runs = 0

    async def read(self) -> float:
        """Open a random topic's concept page."""
        started = time.perf_counter()
        status, _, _ = await self.conn.request("GET", f"/lessons/{self.rng.choice(TOPICS)}/concept/")
        if status != 200:
            raise RuntimeError(f"status {status}")
        return time.perf_counter() - started

    async def answer(self) -> float:
        """Answer one question; the attempt is opened first, untimed, on the learner's first answer."""
        if self.attempt is None:
            self.attempt = await start_attempt(self.conn, self.topic, self.headers)
        attempt_id, choices = self.attempt
        question = self.rng.choice(list(choices))
        started = time.perf_counter()
        status = await answer_question(
            self.conn, attempt_id, question, self.rng.choice(choices[question]), self.headers
        )
        if status != 200:
            raise RuntimeError(f"status {status}")
        return time.perf_counter() - started

    async def run(self) -> float:
        """Open the playground page's socket, run the echo starter, echo one message through a panel client, stop."""
        self.runs += 1
        body = f"hello {self.runs}"
        cookie = {"Cookie": f"sessionid={self.session}"}
        async with websockets.connect(
            self.url.replace("http", "ws", 1) + "/ws/playground/", origin=self.url, additional_headers=cookie
        ) as page:
            started = time.perf_counter()
            await page.send(json.dumps({"type": "run", "code": ECHO_STARTER, "starter": "echo"}))
            await until_page(page, lambda m: m["type"] == "status" and m["state"] == "running")
            await page.send(json.dumps({"type": "client.connect", "client": "c1", "path": ECHO_PATH}))
            await until_page(page, lambda m: m["type"] == "consumer.accept")
            await page.send(json.dumps({"type": "client.send", "client": "c1", "text": body}))
            await until_page(page, lambda m: m["type"] == "consumer.send" and m.get("text") == body)
            elapsed = time.perf_counter() - started
            await page.send(json.dumps({"type": "stop"}))
            await until_page(page, lambda m: m["type"] == "status" and m["state"] == "stopped")
        return elapsed

    async def step(self, action: str) -> None:
        """Do one action and record its time, or its failure (a refusal, an error status, a timeout) by reason."""
        try:
            seconds = await asyncio.wait_for(getattr(self, action)(), ACTION_TIMEOUT)
        except Exception as exc:
            self.results[action]["errors"][str(exc)[:90] or type(exc).__name__] += 1
            await self.conn.close()  # a request cut off half way leaves the connection unusable
        else:
            self.results[action]["ms"].append(seconds * 1000)

    async def live(self, deadline: float) -> None:
        """Arrive, then read, think, answer, think, and now and then run code, until the deadline."""
        await asyncio.sleep(self.rng.uniform(0, RAMP_SECONDS))
        while True:
            plan = ["read", "answer"] + (["run"] if self.rng.random() < RUN_CHANCE else [])
            for action in plan:
                if time.monotonic() >= deadline:
                    await self.conn.close()
                    return
                await self.step(action)
                await asyncio.sleep(self.rng.uniform(*THINK_SECONDS))


def empty_results() -> dict:
    """Per action: the times of those that succeeded and the failures by reason."""
    return {action: {"ms": [], "errors": Counter()} for action in ACTIONS}


async def warm_up(url: str, session: str) -> None:
    """One learner does each action before the load, so the figures are a warm server's (sandbox pool, connections)."""
    results = empty_results()
    learner = Learner(url, session, random.Random(-1), results)
    for action in ACTIONS:
        await learner.step(action)
    await learner.conn.close()
    failed = {action: dict(tally["errors"]) for action, tally in results.items() if tally["errors"]}
    if failed:
        raise RuntimeError(f"the warm-up learner failed: {failed}")


async def load(url: str, sessions: list[str], seconds: float) -> tuple[dict, float]:
    """Every learner at once until `seconds` have passed; a hard limit ends whatever is still going after that."""
    results = empty_results()
    learners = [Learner(url, session, random.Random(index), results) for index, session in enumerate(sessions)]
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.wait_for(
        asyncio.gather(*(learner.live(deadline) for learner in learners)), seconds + ACTION_TIMEOUT * 2 + 10
    )
    return results, time.monotonic() - started


def rows(results: dict, elapsed: float) -> list[tuple[str, str, str, str]]:
    """Per action, p50 / p99 beside the single-feature goal where there is one, then its failures."""
    table = []
    for action, (label, goal) in ACTIONS.items():
        samples, errors = results[action]["ms"], results[action]["errors"]
        if samples:
            p99 = percentile(samples, 99)
            measured = (
                f"{percentile(samples, 50):.0f} ms / {p99:.0f} ms ({len(samples)} done, {len(samples) / elapsed:.1f}/s)"
            )
        else:
            p99, measured = None, "none completed"
        verdict = "" if goal is None else ("met" if p99 is not None and p99 <= goal[0] else "missed")
        goal_text = "no goal set" if goal is None else f"p99 ≤ {goal[0]} ms ({goal[1]})"
        table.append((f"{label} p50 / p99", measured, goal_text, verdict))
        reasons = "; ".join(f"{count} × {reason}" for reason, count in errors.most_common(4))
        table.append((f"{label} failures", f"{errors.total()}" + (f" ({reasons})" if reasons else ""), "", ""))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=LEARNERS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    # Every simulated learner connects from 127.0.0.1: the per-address socket cap would count them as one school.
    with daphne_server({"WEBSOCKET_MAX_PER_IP": "100000"}) as (url, env):
        *sessions, warm_session = make_sessions(env, args.learners + 1)
        asyncio.run(warm_up(url, warm_session))
        results, elapsed = asyncio.run(load(url, sessions, args.seconds))
    notes = (
        f"{args.learners} signed-in learners against one Daphne process with the embedded defaults (SQLite, in-memory "
        "channel layer, the real bubblewrap sandbox, DEBUG off), all client coroutines in one process on the same "
        "2-core machine. One extra learner reads, answers and runs once before the load, so these are a warm "
        "server's figures. (The question bank is built when the server starts, in config.asgi: before that, every "
        "quiz request racing the first one built it again, about 2 s of CPU each, and 20 learners starting "
        f"together waited about 45 s in a trial.) Learners arrive over {RAMP_SECONDS:.0f} s, then loop for {args.seconds:.0f} s: read a "
        "random topic's concept page; answer a random question of their own test-mode attempt (htmx POST with the "
        "CSRF cookie and header; the attempt is opened, untimed, before the first answer); and in "
        f"{RUN_CHANCE:.0%} of rounds run code: open the playground socket, run the echo starter, wait for status "
        f"`running`, connect a panel client to {ECHO_PATH}, send a message and time until its echo arrives, then "
        f"stop (the page's `batch` envelopes are opened). Think times {THINK_SECONDS[0]}-{THINK_SECONDS[1]} s "
        f"between actions; an action not done in {ACTION_TIMEOUT:.0f} s counts as failed. A refused run (the "
        "per-learner limits PLAYGROUND_RUNS_PER_MINUTE = 20 and PLAYGROUND_MAX_CONCURRENT_RUNS = 2, or no sandbox) "
        "arrives as status `stopped` and is counted as a failure with its reason. The goals beside read and answer "
        "are the p99 goals of the single-feature benchmarks named; issue #9 asks only for p99 per action. "
        "'did not receive a valid HTTP response' is Daphne dropping a WebSocket handshake that its consumer did not "
        "accept within Daphne's --websocket_connect_timeout (5 s): under this load the playground socket's session "
        "lookup waits behind the synchronous page views for the same thread pool."
    )
    write_results(
        Path(__file__).with_name("mixed_RESULTS.md"),
        "Mixed load",
        f"python bench/mixed_bench.py --learners {args.learners} --seconds {args.seconds:.0f}",
        rows(results, elapsed),
        notes,
    )


if __name__ == "__main__":
    main()
