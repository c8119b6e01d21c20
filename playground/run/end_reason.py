"""Why a run ended, when the owner's stop, a limit and the sandbox's own exit all say something."""

from __future__ import annotations

from playground.models import Run

SANDBOX_EXIT_REASONS = {
    "stopped": Run.EndReason.STOPPED,
    "error": Run.EndReason.ERROR,
    "limit": Run.EndReason.LIMIT,
    "start_failed": Run.EndReason.START_FAILED,
}


def end_reason_for(sandbox_reason: str) -> str:
    """The Run end reason for a sandbox exit reason; anything unexpected (protocol, crash) is a crash."""
    return SANDBOX_EXIT_REASONS.get(sandbox_reason, Run.EndReason.CRASHED)


class EndReason:
    """The run's (reason, detail): a limit reached always wins, the owner's first stop beats the sandbox's exit."""

    def __init__(self) -> None:
        self.reason: str = Run.EndReason.STOPPED
        self.detail = ""
        self.owner_stopped = False

    def owner_stop(self, reason: str, detail: str = "") -> None:
        """Stop, page closed or a new run: the first of these is why the run ended (unless a limit is reported)."""
        if not self.owner_stopped:
            self.reason, self.detail = reason, detail
        self.owner_stopped = True

    def limit_reached(self, what: str, detail: str | None = None) -> None:
        self.reason = Run.EndReason.LIMIT
        self.detail = f"{what} limit reached" + (f": {detail}" if detail else "")

    def sandbox_exited(self, sandbox_reason: str, detail: str) -> None:
        """The sandbox's own account counts only when neither the owner nor a limit ended the run."""
        if not self.owner_stopped and self.reason != Run.EndReason.LIMIT:
            self.reason, self.detail = end_reason_for(sandbox_reason), detail
