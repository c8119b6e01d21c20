"""Questions built from a trace: what happens at a step, asked while the step before it is shown.

Django-free. The answer and the choices come from the trace itself (the real row, and plausible wrong ones taken from
its other rows), so one function both asks (`build_question`) and grades (`grade`) on the server.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from playground.sandbox.shared.protocol import STATE_LABELS, STATES

# What a stop can ask about the step it stops before, in the words the author writes in content/predictions/.
ASKS = ("handler", "frame", "state", "close_code", "variable", "action")
ANSWER_FORMS = ("choice", "short")
# Asks whose answer is short enough to type; frames and actions are sentences, so they are always choices.
SHORT_ASKS = frozenset({"handler", "state", "close_code", "variable"})
# Rows where Channels calls one of the consumer's methods.
HANDLER_KINDS = frozenset({"connect", "receive", "disconnect", "handler"})
CLOSE_KINDS = frozenset({"close", "reject", "disconnect"})
CHOICES = 4  # the real answer and at most three wrong ones
MAX_DISTRACTORS = 5  # authored ones, at most
COMMON_CLOSE_CODES = ("1000", "1001", "1006", "1011", "4000", "4003")
NO_FRAME = "no client receives a frame"  # always wrong before a send row
CLOSE_CODE = re.compile(r"\bcode[ =](\d{4})\b")


class QuestionError(Exception):
    """A stop that cannot be asked about its row, or an answer that does not fit the question."""


@dataclass(frozen=True)
class Stop:
    """A step to stop before, what to ask about it, and how the learner answers."""

    step: int
    ask: str
    answer_form: str = "choice"
    variable: str = ""
    distractors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    """What the page shows before the step; `answer` stays on the server until the learner has answered."""

    step: int
    ask: str
    prompt: str
    choices: tuple[str, ...]  # empty for a short answer
    answer: str

    def public(self) -> dict[str, Any]:
        """The question without its answer."""
        return {"step": self.step, "ask": self.ask, "prompt": self.prompt, "choices": list(self.choices)}


def close_code(row: dict[str, Any]) -> str | None:
    """The close code a close, reject or disconnect row names in its words, if any."""
    if row.get("kind") not in CLOSE_KINDS:
        return None
    found = CLOSE_CODE.search(f"{row.get('action', '')} {row.get('result', '')}")
    return found.group(1) if found else None


def default_ask(row: dict[str, Any]) -> str:
    """What to ask about a row when nobody chose: the handler, the frame, the close code, else what happens."""
    if row.get("kind") in HANDLER_KINDS and row.get("method"):
        return "handler"
    if row.get("kind") == "send" and row.get("client"):
        return "frame"
    if close_code(row) is not None:
        return "close_code"
    return "action"


def why_not(row: dict[str, Any], ask: str, variable: str = "") -> str:
    """Why `ask` cannot be asked about this row, or "" when it can."""
    kind = row.get("kind")
    if ask == "handler" and (kind not in HANDLER_KINDS or not row.get("method")):
        return f"is a {kind} row; ask: handler needs a connect, receive, disconnect or handler row"
    if ask == "frame" and (kind != "send" or not row.get("client")):
        return f"is a {kind} row; ask: frame needs a send row"
    if ask == "state" and not row.get("client"):
        return "concerns no client, so it has no connection state to ask about"
    if ask == "close_code" and close_code(row) is None:
        return f"is a {kind} row that names no close code; ask: close_code needs a close, reject or disconnect row"
    if ask == "variable" and variable not in (row.get("vars") or {}):
        return f"has no variable {variable!r} (it has: {', '.join(row.get('vars') or {}) or 'none'})"
    return ""


def handler_label(row: dict[str, Any]) -> str:
    return f"{row['method']}() of {row['client']}'s consumer" if row.get("client") else f"{row['method']}()"


def frame_of(row: dict[str, Any]) -> str:
    """The frame of a send row's result ("c1 receives 'hi'" gives "'hi'")."""
    result = str(row.get("result", ""))
    prefix = f"{row.get('client')} receives "
    return result[len(prefix) :] if result.startswith(prefix) else result


def unique(values: Sequence[str], leave_out: str) -> list[str]:
    seen: set[str] = {leave_out}
    kept = []
    for value in values:
        if value and value not in seen:
            seen.add(value)
            kept.append(value)
    return kept


def _prompt_and_answer(row: dict[str, Any], stop: Stop) -> tuple[str, str]:
    client = row.get("client")
    if stop.ask == "handler":
        if stop.answer_form == "short":
            return f"Which method of {client}'s consumer does Channels call next? Type its name.", str(row["method"])
        return "Which handler does Channels call next?", handler_label(row)
    if stop.ask == "frame":
        return "Which frame goes to which client next?", str(row["result"])
    if stop.ask == "state":
        return f"What is {client}'s connection state after the next step?", STATE_LABELS[row["state"]]
    if stop.ask == "close_code":
        return f"Which close code does the next step show for {client}'s connection?", str(close_code(row))
    if stop.ask == "variable":
        return f"What is {stop.variable} of {client}'s consumer after the next step?", str(row["vars"][stop.variable])
    return "What happens next?", str(row["action"])


def _candidates(events: Sequence[dict[str, Any]], row: dict[str, Any], stop: Stop) -> list[str]:
    """Wrong answers taken from the trace's other rows, most plausible first."""
    others = [event for event in events if event is not row]
    clients = unique([str(event["client"]) for event in events if event.get("client")], "")
    if stop.ask == "handler":
        if stop.answer_form == "short":
            return []
        called = [handler_label(e) for e in others if e.get("kind") in HANDLER_KINDS and e.get("method")]
        same_method = [handler_label({**row, "client": client}) for client in clients]
        usual = [handler_label({**row, "method": name}) for name in ("connect", "receive", "disconnect")]
        return [*called, *same_method, *usual]
    if stop.ask == "frame":
        frame = frame_of(row)
        sends = [str(e["result"]) for e in others if e.get("kind") == "send"]
        elsewhere = [f"{client} receives {frame}" for client in clients]
        echoed = [
            f"{row['client']} receives {str(e['action']).partition(' sends ')[2]}"
            for e in others
            if e.get("kind") == "receive" and " sends " in str(e.get("action"))
        ]
        return [*elsewhere, *sends, *echoed, NO_FRAME]
    if stop.ask == "state":
        seen = [STATE_LABELS[e["state"]] for e in others if e.get("client") == row.get("client")]
        return [*seen, *(STATE_LABELS[state] for state in STATES)]
    if stop.ask == "close_code":
        return [*(code for e in others if (code := close_code(e)) is not None), *COMMON_CLOSE_CODES]
    if stop.ask == "variable":
        values = [str(e["vars"][stop.variable]) for e in others if stop.variable in (e.get("vars") or {})]
        return values
    same_client = [str(e["action"]) for e in others if e.get("client") == row.get("client")]
    return [*same_client, *(str(e["action"]) for e in others)]


def build_question(events: Sequence[dict[str, Any]], stop: Stop, seed: str) -> Question:
    """The question a stop asks; the same trace, stop and seed always give the same choices in the same order."""
    index = next((i for i, event in enumerate(events) if event.get("step") == stop.step), None)
    if index is None or index == 0:
        raise QuestionError(f"step {stop.step} is not a step after the first")
    row = events[index]
    problem = why_not(row, stop.ask, stop.variable)
    if problem:
        raise QuestionError(f"step {stop.step} {problem}")
    prompt, answer = _prompt_and_answer(row, stop)
    if stop.answer_form == "short":
        return Question(stop.step, stop.ask, prompt, (), answer)
    wrong = unique([*stop.distractors, *_candidates(events, row, stop)], answer)[: CHOICES - 1]
    if not wrong:
        raise QuestionError(f"step {stop.step}: the trace offers no wrong answer to choose from; add distractors")
    choices = [answer, *wrong]
    random.Random(f"{seed}:{stop.step}").shuffle(choices)
    return Question(stop.step, stop.ask, prompt, tuple(choices), answer)


def normalise(ask: str, text: str) -> str:
    """A typed answer in the form the trace writes it: no spaces at the ends, case-blind names, no call brackets."""
    text = text.strip()
    if ask == "handler":
        text = text.removeprefix("self.").removesuffix("()").strip()
    if ask in ("handler", "state"):
        return text.lower()
    if ask == "variable" and len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def grade(question: Question, answer: str) -> bool:
    """Whether the learner's answer is the real one; a choice that was not offered is refused, never graded."""
    if question.choices:
        if answer not in question.choices:
            raise QuestionError("Pick one of the offered answers.")
        return answer == question.answer
    if not answer.strip():
        raise QuestionError("Type an answer first.")
    return normalise(question.ask, answer) == normalise(question.ask, question.answer)
