"""`manage.py run_consumer FILE [--script SCRIPT.jsonl] [--timeout S]`: run a consumer in the sandbox, print every event."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from playground.run.limits import run_limits
from playground.sandbox.host.script import WAIT, outcome, read_script, run_script
from playground.sandbox.shared import protocol
from playground.sandbox_supply import sandbox_options


class Command(BaseCommand):
    help = (
        "Run a consumer module in the playground sandbox, feed it the client ops of a JSON-lines script "
        "(client.connect / client.send / client.close, plus {'type': 'wait', 'seconds': N}), and print every event as a JSON line. "
        "Exit status: 0 normal end, 1 learner error, 2 limit, 3 sandbox failure."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="the consumer module (e.g. content/starters/chat.py)")
        parser.add_argument("--script", help="JSON-lines file of ops, one object a line; '-' reads standard input")
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds for the whole run (default 30)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            code = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        ops = self.load_ops(options["script"])
        try:
            limits = run_limits()
        except (TypeError, ValueError) as exc:
            raise CommandError(f"invalid PLAYGROUND_LIMITS: {exc}") from exc
        events = asyncio.run(
            run_script(code, ops, limits, options["timeout"], options=sandbox_options(), filename=path.name)
        )
        for event in events:
            self.stdout.write(json.dumps(event, ensure_ascii=False))
        status, reason = outcome(events)
        if status:
            self.stderr.write(reason)
            sys.exit(status)

    def load_ops(self, script: str | None) -> list[dict[str, Any]]:
        """Ops from the script file (or stdin); fail with file and line on bad input."""
        if not script:
            return []
        try:
            if script == "-":
                lines = [
                    line for line in sys.stdin.read().splitlines() if line.strip() and not line.lstrip().startswith("#")
                ]
                ops = [json.loads(line) for line in lines]
            else:
                ops = read_script(script)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        known = (*protocol.CLIENT_OPS, protocol.STOP, WAIT)
        for number, op in enumerate(ops, 1):
            if not isinstance(op, dict) or op.get("type") not in known:
                raise CommandError(f"{script}: op {number} must be an object whose 'type' is one of {', '.join(known)}")
        return ops
