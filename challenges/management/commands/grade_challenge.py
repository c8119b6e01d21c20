"""`manage.py grade_challenge SLUG FILE`: grade a file against a challenge's tests in the sandbox, one JSON line a test."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from challenges.grader import grade
from challenges.loader import get_challenges
from lessons.catalogue import CatalogueError
from playground.run.limits import run_limits
from playground.sandbox import Sandbox
from playground.sandbox_supply import sandbox_options

USAGE_ERROR = 2


class Command(BaseCommand):
    help = (
        "Grade a consumer module against every test of a challenge (visible and hidden), each in a fresh sandbox. "
        "Prints one JSON line per test (hidden tests: name and reason only). "
        "Exit status: 0 every test passed, 1 some failed, 2 usage or content error."
    )
    requires_system_checks: list[str] = []  # broken content is reported below, with exit status 2

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug", help="the challenge, e.g. shout-echo (content/challenges/NN-SLUG/)")
        parser.add_argument("file", help="the consumer module to grade")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            challenge = get_challenges().get(options["slug"])
        except CatalogueError as exc:
            raise CommandError(f"the challenge content is broken:\n{exc}", returncode=USAGE_ERROR) from exc
        if challenge is None:
            known = ", ".join(c.slug for c in get_challenges().challenges)
            raise CommandError(f"no challenge {options['slug']!r} (known: {known})", returncode=USAGE_ERROR)
        path = Path(options["file"])
        try:
            code = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}", returncode=USAGE_ERROR) from exc
        try:
            limits = run_limits()
        except (TypeError, ValueError) as exc:
            raise CommandError(f"invalid PLAYGROUND_LIMITS: {exc}", returncode=USAGE_ERROR) from exc

        async def cold_sandbox() -> Sandbox:
            return await Sandbox.start(limits, sandbox_options())

        results = asyncio.run(
            grade(
                challenge.tests,
                code,
                cold_sandbox,
                parallel=settings.CHALLENGE_GRADING_PARALLEL,
                test_seconds=settings.CHALLENGE_TEST_SECONDS,
            )
        )
        for result in results:
            self.stdout.write(json.dumps(result.public(), ensure_ascii=False))
        if not all(result.passed for result in results):
            sys.exit(1)
