"""Ids in URLs: a number no database row can have is a 404 (a 4404 close on a socket), never a 500.

The HTTP and socket probes run on this run's database; `test_ids_are_range_checked_on_the_other_database` runs the
HTTP probe again in a child pytest on the other backend (SQLite or PostgreSQL), so both are always covered.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from config.converters import DatabaseIdConverter
from config.routing import (
    CLOSE_NOT_FOUND,
    public_websocket_urlpatterns,
    session_websocket_urlpatterns,
    websocket_application,
)
from tests.conftest import ROOT
from tests.factories import make_cohort, make_user

# Zero, one past the largest 64-bit id, and the 25-digit id.
OUT_OF_RANGE_IDS = ["0", str(2**63), "9999999999999999999999999"]
# Django's admin parses its own object ids (and answers a missing one with a redirect); it is not the project's.
NOT_PROJECT_ROUTES = ("admin/",)
OTHER_PARAMETERS = {
    "topic": "consumer-lifecycle",
    "slug": "consumer-lifecycle",
    "code": "no-such-code",
    "step": "2",  # a step of a trace, not a database id
}
PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def http_routes(patterns=None, prefix: str = "") -> list[tuple[str, URLPattern]]:
    """Every HTTP route of the project's own URLconfs, with its full route string."""
    routes = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(NOT_PROJECT_ROUTES):
            continue
        if isinstance(entry, URLResolver):
            routes.extend(http_routes(entry.url_patterns, route))
        else:
            routes.append((route, entry))
    return routes


def is_id(name: str) -> bool:
    return name == "pk" or name.endswith("_id")


def id_routes() -> list[str]:
    """The HTTP routes that take a database id."""
    return [route for route, _ in http_routes() if any(is_id(m["name"]) for m in PARAMETER.finditer(route))]


def test_every_id_parameter_uses_the_range_checked_converter():
    unchecked = []
    for route, entry in http_routes():
        converters = entry.pattern.converters
        unchecked += [
            f"{route} ({name})"
            for name in re.findall(r"\(\?P<(\w+)>", entry.pattern.regex.pattern)
            if is_id(name) and not isinstance(converters.get(name), DatabaseIdConverter)
        ]
    for entry in [*session_websocket_urlpatterns, *public_websocket_urlpatterns]:
        converters = getattr(entry.pattern, "converters", {})
        unchecked += [
            f"{entry.pattern} ({name})"
            for name in entry.pattern.regex.groupindex
            if is_id(name) and not isinstance(converters.get(name), DatabaseIdConverter)
        ]
    assert id_routes(), "the project's id routes were not found"
    assert unchecked == [], "ids parsed without the <id:...> converter"


def url_for(route: str, id_value: str) -> str:
    return "/" + PARAMETER.sub(lambda m: id_value if is_id(m["name"]) else OTHER_PARAMETERS[m["name"]], route)


@pytest.mark.django_db
def test_out_of_range_ids_are_not_found(client):
    instructor = make_user("range-teacher", instructor=True)
    learner = make_user("range-learner")
    make_cohort(instructor, learners=[learner])
    client.force_login(instructor)
    client.raise_request_exception = False
    answers = {}
    for route in id_routes():
        for id_value in OUT_OF_RANGE_IDS:
            url = url_for(route, id_value)
            answers[url] = (client.get(url).status_code, client.post(url).status_code)
    assert answers and set(answers.values()) == {(404, 404)}, (connection.vendor, answers)


def session_headers(user) -> list[tuple[bytes, bytes]]:
    """A same-site socket handshake carrying the user's session (config.asgi is not imported: it loads content)."""
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    return [(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie.encode())]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ws/cohorts/{id}/", "/ws/runs/{id}/watch/"])
async def test_out_of_range_ids_close_sockets_as_not_found(path):
    instructor = await database_sync_to_async(make_user)("socket-teacher", instructor=True)
    headers = await database_sync_to_async(session_headers)(instructor)
    for id_value in OUT_OF_RANGE_IDS:
        communicator = WebsocketCommunicator(websocket_application, path.format(id=id_value), headers=headers)
        assert await communicator.connect() == (False, CLOSE_NOT_FOUND), id_value


def other_database_env(tmp_path) -> dict[str, str]:
    """The environment for a child pytest on the backend this run does not use; pytest-django makes its database."""
    env = {**os.environ, "DJANGO_DATA_DIR": str(tmp_path), "ACADEMY_TEST_RUN_ID": uuid.uuid4().hex[:12]}
    env.pop("PYTEST_XDIST_WORKER", None)
    if connection.vendor == "postgresql":
        env.pop("DATABASE_URL", None)
    else:
        env["DATABASE_URL"] = os.environ.get("DATABASE_URL", "") or "postgres://postgres@127.0.0.1:5432/academy"
    return env


@pytest.mark.django_db
def test_ids_are_range_checked_on_the_other_database(tmp_path, request):
    if connection.vendor != "postgresql":
        request.getfixturevalue("postgres_admin_url")  # fails or skips when PostgreSQL is absent
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"{__file__}::test_out_of_range_ids_are_not_found",
        ],
        cwd=ROOT,
        env=other_database_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
