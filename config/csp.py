"""Content-Security-Policy on every page: scripts, styles and connections only from the site itself.

No inline script, no eval, no inline style: a script injected into a page (stored XSS) does not run. The page
scripts are ES modules in static/js/ that read their data from data-* attributes and json_script blocks (JSON is
not executed). Ace runs with `useStrictCSP` (it then injects no <style>; its CSS is linked from the pages that use
it) and htmx with `includeIndicatorStyles: false` (the same, for its indicator style).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def policy() -> str:
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in settings.CONTENT_SECURITY_POLICY.items())


class ContentSecurityPolicyMiddleware:
    """Adds the policy of CONTENT_SECURITY_POLICY to every response that has none yet."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = f"{HEADER}-Report-Only" if settings.CONTENT_SECURITY_POLICY_REPORT_ONLY else HEADER
        self.value = policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER not in response and f"{HEADER}-Report-Only" not in response:
            response[self.header] = self.value
        return response
