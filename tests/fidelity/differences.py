"""The differences between the playground and a real Daphne that stay, each stated to the learner on a page.

Every difference the fidelity suite finds must be one of these (tests/fidelity/test_content.py); each one's page must
carry its marker `<!-- fidelity-difference: ID -->` next to the sentence that states it, and a claim test must still
produce it (tests/fidelity/test_daphne_claims.py), so a difference the sandbox stops having cannot stay listed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from playground.sandbox.shared import protocol
from tests.fidelity.harness import AFTER_TIMEOUT, HANDSHAKE_DROPPED, PENDING, SANDBOX_ORIGIN, Difference, Result

STATED_ON = "content/topics/02-installing/playground.md"  # the page that says what the playground wires around code


@dataclass(frozen=True)
class KnownDifference:
    id: str
    page: str
    reason: str
    recognise: Callable[[Difference, Result], bool]

    @property
    def marker(self) -> str:
        return f"<!-- fidelity-difference: {self.id} -->"


def _pending_handshake(difference: Difference, result: Result) -> bool:
    if difference.aspect == "handshake":
        return difference.sandbox == PENDING and difference.daphne == AFTER_TIMEOUT
    return (
        difference.aspect == "seen" and difference.sandbox == [] and difference.daphne == [{"type": HANDSHAKE_DROPPED}]
    )


def _origin_unchecked(difference: Difference, result: Result) -> bool:
    connects = [
        op for op in result.case.script if op.get("client") == difference.client and op.get("type") == "client.connect"
    ]
    origins = {str(value) for op in connects for name, value in op.get("headers", []) if str(name).lower() == "origin"}
    return (
        difference.aspect == "seen"
        and bool(origins - {SANDBOX_ORIGIN})
        and difference.sandbox[:1] == [{"type": protocol.CONSUMER_ACCEPT, "subprotocol": None}]
        and difference.daphne == [{"type": protocol.CONSUMER_REJECT, "status": 403}]
    )


KNOWN = (
    KnownDifference(
        "pending-handshake",
        STATED_ON,
        "The playground has no handshake timeout: a handshake nobody answers stays pending (its note says so). Daphne "
        "drops the TCP connection after --websocket_connect_timeout (5 s): no HTTP answer, WSDISCONNECT in the log, "
        "disconnect(1006) in the consumer.",
        _pending_handshake,
    ),
    KnownDifference(
        "origin-unchecked",
        STATED_ON,
        "The playground runs websocket_urlpatterns without AllowedHostsOriginValidator, so any Origin is accepted; a "
        "project's asgi.py refuses a foreign Origin with HTTP 403 and WSREJECT.",
        _origin_unchecked,
    ),
)


def explain(difference: Difference, result: Result) -> KnownDifference | None:
    return next((known for known in KNOWN if known.recognise(difference, result)), None)


def unexplained(result: Result) -> list[Difference]:
    """The differences of a result that no known, stated difference accounts for: fidelity errors."""
    return [difference for difference in result.differences() if explain(difference, result) is None]
