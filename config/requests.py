"""Request types for views: what middleware and decorators guarantee, spelled out for the type checker."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request that passed django-htmx's middleware, which sets `request.htmx` on every request."""

    htmx: HtmxDetails


class AuthenticatedHttpRequest(HttpRequest):
    """A request behind login_required: its user is a signed-in account, never AnonymousUser."""

    user: User
