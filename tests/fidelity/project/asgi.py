"""The fidelity project's ASGI module: each case's consumer module behind the stack a learner's asgi.py has, picked by
the path prefix /case/NAME/ (stripped before the case sees the scope), plus the harness's control endpoints."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import sys
import types
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.fidelity.project.settings")
django.setup()

from asgiref.sync import sync_to_async  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.consumer import AsyncConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.urls import re_path  # noqa: E402

CASES_DIR = Path(os.environ["FIDELITY_CASES_DIR"])
CASE_PATH = re.compile(r"^/case/(?P<name>[a-z0-9_]+)(?P<rest>/.*)$")
CONTROL_PATH = re.compile(r"^/__fidelity__/(?P<action>load|login|mark)/(?P<name>[a-z0-9_]*)/?$")
# Daphne's application_checker logs an application's exception once a second (daphne/server.py, callLater(1, ...));
# a mark after a failed instance waits one period longer, so the traceback is in the log before the mark.
APPLICATION_CHECK_SECONDS = 1.2
IDLE_WAIT_SECONDS = 30.0

call_command("migrate", verbosity=0, interactive=False)
django_asgi_app = get_asgi_application()


class Case:
    """One case module, the application a learner's project would build around it, and its running instances."""

    def __init__(self, name: str) -> None:
        path = CASES_DIR / f"{name}.py"
        module_name = f"fidelity_case_{name}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        self.application = ProtocolTypeRouter(
            {"http": django_asgi_app, "websocket": AllowedHostsOriginValidator(websocket_app(module))}
        )
        self.running = 0
        self.failed = False
        self.idle = asyncio.Event()
        self.idle.set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.running += 1
        self.idle.clear()
        try:
            await self.application(scope, receive, send)
        except BaseException:
            self.failed = True
            raise
        finally:
            self.running -= 1
            if not self.running:
                self.idle.set()


def websocket_app(module: types.ModuleType) -> Any:
    """What the learner's asgi.py routes WebSockets to: their own `application`, else AuthMiddlewareStack around
    URLRouter(websocket_urlpatterns), else their one consumer on every path (as the playground picks it)."""
    application = vars(module).get("application")
    if application is not None and callable(application) and not isinstance(application, type):
        return application
    patterns = vars(module).get("websocket_urlpatterns")
    if patterns is not None:
        return AuthMiddlewareStack(URLRouter(list(patterns)))
    consumers = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, AsyncConsumer) and value.__module__ == module.__name__
    ]
    leaves = [cls for cls in consumers if not any(other is not cls and issubclass(other, cls) for other in consumers)]
    if len(leaves) != 1:
        raise LookupError(f"expected one consumer class, found {[cls.__name__ for cls in leaves]}")
    return AuthMiddlewareStack(URLRouter([re_path(r"", leaves[0].as_asgi())]))


cases: dict[str, Case] = {}


async def respond(send: Any, status: int, body: str) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain; charset=utf-8")]}
    )
    await send({"type": "http.response.body", "body": body.encode()})


@sync_to_async
def login(query: dict[str, list[str]]) -> str:
    """A session key for the user the script names (created with that id), as logging in on the site would give."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    user_model = get_user_model()
    username, user_id = query["username"][0], int(query["id"][0])
    user_model.objects.filter(username=username).exclude(pk=user_id).delete()
    user, _ = user_model.objects.update_or_create(
        pk=user_id, defaults={"username": username, "is_staff": query.get("is_staff") == ["1"]}
    )
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return str(session.session_key)


async def control(action: str, name: str, query: dict[str, list[str]], send: Any) -> None:
    """load: import the case (200, or 500 with the exception); login: a session key; mark: print a marker on both
    streams once the case's instances have finished, so the harness knows its log is complete."""
    if action == "load":
        try:
            cases[name] = Case(name)
        except Exception as exc:
            await respond(send, 500, f"{type(exc).__name__}: {exc}")
            return
        await respond(send, 200, "loaded")
    elif action == "login":
        await respond(send, 200, await login(query))
    else:
        case = cases.get(name)
        if case is not None:
            try:
                await asyncio.wait_for(case.idle.wait(), IDLE_WAIT_SECONDS)
            except TimeoutError:
                print(f"fidelity: case {name} still runs {case.running} instance(s)", file=sys.stderr, flush=True)
            if case.failed:
                case.failed = False
                await asyncio.sleep(APPLICATION_CHECK_SECONDS)
        token = query.get("token", [""])[0]
        for stream in (sys.stdout, sys.stderr):
            print(f"fidelity-mark {token}", file=stream, flush=True)
        await respond(send, 200, "marked")


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Route /__fidelity__/ to the harness's controls and /case/NAME/... to that case with the prefix stripped."""
    path = scope.get("path", "")
    if scope["type"] == "http" and (found := CONTROL_PATH.match(path)):
        query = parse_qs(scope.get("query_string", b"").decode())
        await control(found["action"], found["name"], query, send)
        return
    found = CASE_PATH.match(path)
    case = cases.get(found["name"]) if found else None
    if found is None or case is None:
        if scope["type"] == "http":
            await respond(send, 404, "no such case")
        return
    rest = found["rest"]
    await case(dict(scope, path=rest, raw_path=rest.encode()), receive, send)
