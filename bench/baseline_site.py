"""The benchmarks' own settings: the site's, with `/bench/base/` added (bench/baseline_urls.py).

Issue #14 measures each page against a view rendering base.html with no database access, served by the same process;
that view belongs to the benchmarks, not to the site. Use with DJANGO_SETTINGS_MODULE=bench.baseline_site.
"""

from __future__ import annotations

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_urls"
