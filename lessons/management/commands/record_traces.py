"""manage.py record_traces [NAME ...] [--check]: re-record lesson traces in the sandbox, or list stale ones."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lessons.trace_recording import is_current, record


class Command(BaseCommand):
    help = "Run each trace's starter and script in the sandbox and rewrite content/traces/<name>.json."

    def add_arguments(self, parser) -> None:
        parser.add_argument("names", nargs="*", help="trace names (default: all)")
        parser.add_argument("--check", action="store_true", help="only report stale traces; exit 1 if any")

    def handle(self, *args, names: list[str], check: bool, **options) -> None:
        content_dir = Path(settings.CONTENT_DIR)
        paths = sorted((content_dir / "traces").glob("*.json"))
        if names:
            paths = [path for path in paths if path.stem in names]
            missing = set(names) - {path.stem for path in paths}
            if missing:
                raise CommandError(f"no trace named {', '.join(sorted(missing))}")
        stale = []
        for path in paths:
            trace = json.loads(path.read_text(encoding="utf-8"))
            if check:
                if not is_current(content_dir, trace):
                    stale.append(path.name)
                continue
            recorded = asyncio.run(record(content_dir, trace))
            path.write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            self.stdout.write(f"recorded {path.name}: {len(recorded['events'])} events")
        if stale:
            raise CommandError("stale traces (run `manage.py record_traces`): " + ", ".join(stale))
