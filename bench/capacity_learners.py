"""Closed-loop learners for the capacity benchmark, run in client processes of their own.

Each learner is signed in (a session made in the database) and loops: think 5-15 s, then one round: read a topic
page (and in 1 of 4 rounds the outline too), answer a question of its own test-mode attempt (graded on the server),
and in 1 of 4 rounds run code (the playground page's socket, the echo starter, one message echoed back).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass

import websockets
from capacity_stats import HANDSHAKE, StepSamples
from harness import ROOT, answer_question, csrf_connection, start_attempt, starter

from tests.support.page_protocol import unbatch

THINK_SECONDS = (5.0, 15.0)  # issue #14: realistic think time between a learner's rounds
OUTLINE_CHANCE = 0.25  # of rounds that also open the lesson outline
RUN_CHANCE = 0.25  # issue #14: a quarter of rounds run code
ACTION_TIMEOUT = 15.0  # an action not done by then is a failure
HANDSHAKE_TIMEOUT = 10.0  # longer than Daphne's own 5 s, so a dropped handshake shows as Daphne's, not ours
TOPICS = sorted(path.stem for path in (ROOT / "content" / "quizzes").glob("*.yaml"))
ECHO_STARTER = starter("echo")
ECHO_PATH = "/ws/echo/"


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


@dataclass(frozen=True)
class ClientPlan:
    """One client process's share of a step: its learners' sessions and the step's clock (time.monotonic, which
    every process of the machine shares)."""

    url: str
    sessions: list[str]
    seed: int
    starts_at: float
    ramp_seconds: float
    ends_at: float  # no learner starts a round after this


@dataclass
class ClientReport:
    samples: StepSamples
    cpu_seconds: float  # this client process's own CPU over the step
    wall_seconds: float


class HandshakeFailed(Exception):
    """The playground socket was not opened: refused, dropped or timed out during the handshake."""


class Learner:
    """One signed-in learner: a keep-alive HTTP connection, a test-mode attempt, a playground tab now and then."""

    def __init__(self, url: str, session: str, rng: random.Random, samples: StepSamples) -> None:
        self.url, self.session, self.rng, self.samples = url, session, rng, samples
        self.conn, self.headers = csrf_connection(url, session)
        self.quiz_topic = rng.choice(TOPICS)
        self.attempt: tuple[int, dict[str, list[str]]] | None = None
        self.runs = 0

    async def get(self, path: str) -> None:
        status, _, _ = await self.conn.request("GET", path)
        if status != 200:
            raise RuntimeError(f"status {status}")

    async def topic(self) -> None:
        await self.get(f"/lessons/{self.rng.choice(TOPICS)}/concept/")

    async def outline(self) -> None:
        await self.get("/lessons/")

    async def start_quiz(self) -> None:
        """Start a test-mode attempt and open its page (once a step, before the learner's first answer)."""
        attempt = await start_attempt(self.conn, self.quiz_topic, self.headers)
        if not attempt[1]:  # the attempt page did not come (an error page has no questions): start again next round
            raise RuntimeError("the attempt page showed no question")
        self.attempt = attempt

    async def answer(self) -> None:
        """Answer one question of the learner's attempt."""
        assert self.attempt is not None
        attempt_id, choices = self.attempt
        question = self.rng.choice(list(choices))
        status = await answer_question(
            self.conn, attempt_id, question, self.rng.choice(choices[question]), self.headers
        )
        if status != 200:
            raise RuntimeError(f"status {status}")

    async def run(self) -> None:
        """Open the playground socket, run the echo starter, echo one message through a panel client, stop."""
        self.runs += 1
        body = f"hello {self.runs}"
        try:
            page = await websockets.connect(
                self.url.replace("http", "ws", 1) + "/ws/playground/",
                origin=self.url,
                additional_headers={"Cookie": f"sessionid={self.session}"},
                open_timeout=HANDSHAKE_TIMEOUT,
            )
        except Exception as exc:
            raise HandshakeFailed(str(exc)[:80] or type(exc).__name__) from exc
        async with page:
            await page.send(json.dumps({"type": "run", "code": ECHO_STARTER, "starter": "echo"}))
            await until_page(page, lambda m: m["type"] == "status" and m["state"] == "running")
            await page.send(json.dumps({"type": "client.connect", "client": "c1", "path": ECHO_PATH}))
            await until_page(page, lambda m: m["type"] == "consumer.accept")
            await page.send(json.dumps({"type": "client.send", "client": "c1", "text": body}))
            await until_page(page, lambda m: m["type"] == "consumer.send" and m.get("text") == body)
            await page.send(json.dumps({"type": "stop"}))
            await until_page(page, lambda m: m["type"] == "status" and m["state"] == "stopped")

    async def step(self, action: str) -> bool:
        """Do one action and record its time from its start, or its failure by reason; whether it succeeded."""
        began = time.monotonic()
        try:
            await asyncio.wait_for(getattr(self, action)(), ACTION_TIMEOUT)
        except HandshakeFailed as exc:
            self.samples.failed.append((action, f"{HANDSHAKE}: {exc}"))
            return False
        except Exception as exc:
            self.samples.failed.append((action, str(exc)[:80] or type(exc).__name__))
            await self.conn.close()  # a request cut off half way leaves the connection unusable
            return False
        self.samples.done.append((action, began, (time.monotonic() - began) * 1000))
        return True

    async def live(self, plan: ClientPlan) -> None:
        """Arrive somewhere in the ramp, then think and do a round, until the step ends."""
        await asyncio.sleep(max(0.0, plan.starts_at + self.rng.uniform(0, plan.ramp_seconds) - time.monotonic()))
        while (wakes_at := time.monotonic() + self.rng.uniform(*THINK_SECONDS)) < plan.ends_at:
            await asyncio.sleep(wakes_at - time.monotonic())
            plan_round = ["topic"]
            plan_round += ["outline"] if self.rng.random() < OUTLINE_CHANCE else []
            plan_round += ["start_quiz"] if self.attempt is None else []
            plan_round += ["answer"]
            plan_round += ["run"] if self.rng.random() < RUN_CHANCE else []
            for action in plan_round:
                if not await self.step(action):
                    break  # as a learner would, after an error the round is given up
        await self.conn.close()


async def live_all(plan: ClientPlan) -> StepSamples:
    samples = StepSamples()
    learners = [
        Learner(plan.url, session, random.Random(plan.seed * 100_003 + index), samples)
        for index, session in enumerate(plan.sessions)
    ]
    await asyncio.gather(*(learner.live(plan) for learner in learners))
    return samples


def run_client(plan: ClientPlan) -> ClientReport:
    """A client process's whole step (the entry point of each process of the pool)."""
    cpu, wall = time.process_time(), time.monotonic()
    samples = asyncio.run(live_all(plan))
    return ClientReport(samples, time.process_time() - cpu, time.monotonic() - wall)


def ready(_: int) -> bool:
    """A task that keeps a new client process busy for a moment, so a pool given one each has started them all."""
    time.sleep(0.5)
    return True
