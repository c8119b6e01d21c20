"""Inside the sandbox: a minimal Django configuration of its own, and turning learner source into an ASGI app."""

from __future__ import annotations

import linecache
import sys
import types
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tracing import Tracer

NO_DATABASE = (
    "the playground has no database: models and ORM queries cannot run here. "
    "Keep state on the consumer (self.something) or in module-level variables instead."
)
NO_CONSUMER = (
    "No consumer class found in your code. Define a class that subclasses one of "
    "AsyncWebsocketConsumer, WebsocketConsumer, AsyncJsonWebsocketConsumer or JsonWebsocketConsumer "
    "(from channels.generic.websocket)."
)
# The sandbox's own settings: never the server's. No apps, no database, an in-memory layer.
SANDBOX_SETTINGS: dict[str, Any] = {
    "DEBUG": False,
    "SECRET_KEY": "playground-sandbox-has-no-secrets",
    "INSTALLED_APPS": [],
    "DATABASES": {"default": {"ENGINE": "playground_nodb"}},
    "CHANNEL_LAYERS": {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
    "USE_TZ": True,
    "TIME_ZONE": "UTC",
    "ALLOWED_HOSTS": ["*"],
    "LOGGING_CONFIG": None,
}


class LoadError(Exception):
    """Learner code could not be turned into an app; carries what the error event shows."""

    def __init__(self, message: str, traceback: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.traceback = traceback
        self.line = line


@dataclass
class LoadedApp:
    """The ASGI application to drive, and what the `loaded` event reports about it."""

    app: Any
    mode: str  # consumer | router | application
    consumers: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)


def _install_nodb_backend() -> None:
    """Register the `playground_nodb` database backend, built on first use from Django's dummy backend."""
    package = types.ModuleType("playground_nodb")
    package.__path__ = []
    base = types.ModuleType("playground_nodb.base")
    cache: dict[str, Any] = {}

    def build(name: str) -> Any:
        if name != "DatabaseWrapper":
            raise AttributeError(name)
        if "wrapper" not in cache:
            from django.core.exceptions import ImproperlyConfigured
            from django.db.backends.dummy import base as dummy

            class NoDatabaseError(ImproperlyConfigured):
                """Raised by every database operation in the playground."""

            NoDatabaseError.__module__ = "playground"
            NoDatabaseError.__qualname__ = "NoDatabaseError"

            def refuse(*args: Any, **kwargs: Any) -> None:
                raise NoDatabaseError(NO_DATABASE)

            class DatabaseOperations(dummy.DatabaseOperations):
                quote_name = refuse

            class DatabaseWrapper(dummy.DatabaseWrapper):
                vendor = "playground"
                display_name = "no database"
                ops_class = DatabaseOperations
                _cursor = refuse
                ensure_connection = refuse
                _commit = refuse
                _savepoint_commit = refuse
                _set_autocommit = refuse

            cache["wrapper"] = DatabaseWrapper
        return cache["wrapper"]

    base.__getattr__ = build  # type: ignore[method-assign]  # a module-level __getattr__ (PEP 562), not a method
    sys.modules["playground_nodb"] = package
    sys.modules["playground_nodb.base"] = base


def preload(env_dir: str, level: str) -> None:
    """Configure the sandbox's Django and import Channels, so a pooled sandbox only has to run learner code."""
    if env_dir not in sys.path:
        sys.path.append(env_dir)
    import asyncio  # noqa: F401 - warm
    import base64  # noqa: F401
    import json  # noqa: F401

    from django.conf import settings

    settings.configure(**SANDBOX_SETTINGS)
    _install_nodb_backend()
    from django.apps import apps

    apps.populate([])
    import channels.consumer
    import channels.exceptions
    import channels.generic.websocket
    import channels.layers

    if level == "full":
        import channels.routing  # noqa: F401
        import django.urls  # noqa: F401


def _hint_for(exc: BaseException) -> str:
    """An extra sentence for errors that come from the sandbox's limits rather than from the code."""
    text = f"{type(exc).__name__}: {exc}"
    if "INSTALLED_APPS" in text or "app_label" in text or "Apps aren't loaded" in text:
        return NO_DATABASE
    if isinstance(exc, ModuleNotFoundError):
        return "Only the Python standard library, Django and Channels can be imported in the playground."
    return ""


def learner_module_name(filename: str) -> str:
    """Module name for the learner's file ('consumer.py' -> 'consumer')."""
    stem = filename.rsplit("/", 1)[-1].removesuffix(".py")
    return stem if stem.isidentifier() and stem not in sys.modules else "consumer"


def load_learner(code: str, filename: str, tracer: Tracer) -> LoadedApp:
    """Compile and run the learner's module, then pick the app: `application`, `websocket_urlpatterns` or the consumer."""
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    try:
        compiled = compile(code, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        text, line = tracer.format_exception(exc)
        message = f"{type(exc).__name__}: {getattr(exc, 'msg', exc)}"
        raise LoadError(message, text, getattr(exc, "lineno", None) or line) from None
    name = learner_module_name(filename)
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    try:
        exec(compiled, module.__dict__)  # noqa: S102 - this is the sandbox's purpose
    except MemoryError:
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit too: learner code must not end the harness
        text, line = tracer.format_exception(exc)
        message = f"{type(exc).__name__}: {exc}"
        hint = _hint_for(exc)
        raise LoadError(f"{message}\n{hint}" if hint else message, text, line) from None
    return pick_app(module)


def pick_app(module: types.ModuleType) -> LoadedApp:
    """Choose what to drive from the learner module's contents."""
    from channels.consumer import AsyncConsumer

    consumers = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, AsyncConsumer) and value.__module__ == module.__name__
    ]
    names = [cls.__name__ for cls in consumers]
    application = vars(module).get("application")
    if application is not None and callable(application) and not isinstance(application, type):
        return LoadedApp(application, "application", names)
    patterns = vars(module).get("websocket_urlpatterns")
    if patterns is not None:
        if not isinstance(patterns, list | tuple) or not patterns:
            raise LoadError("websocket_urlpatterns must be a non-empty list of path()/re_path() entries")
        from channels.routing import URLRouter

        try:
            router = URLRouter(list(patterns))
        except Exception as exc:  # noqa: BLE001 - any routing mistake is the learner's to see
            raise LoadError(f"websocket_urlpatterns is not valid: {type(exc).__name__}: {exc}") from None
        routes = [str(getattr(p, "pattern", p)) for p in patterns]
        return LoadedApp(router, "router", names, routes)
    leaves = [cls for cls in consumers if not any(other is not cls and issubclass(other, cls) for other in consumers)]
    if not leaves:
        raise LoadError(NO_CONSUMER)
    if len(leaves) > 1:
        listed = ", ".join(cls.__name__ for cls in leaves)
        raise LoadError(
            f"Found several consumers ({listed}). Add websocket_urlpatterns = [path('ws/a/', A.as_asgi()), ...] "
            "to say which path runs which."
        )
    return LoadedApp(leaves[0].as_asgi(), "consumer", names)


class PlaygroundUser:
    """scope['user'] in the sandbox: a plain object shaped like Django's user, built from the connect op."""

    def __init__(self, data: dict[str, Any] | None) -> None:
        data = data or {}
        self.username = str(data.get("username") or "")[:150]
        self.is_authenticated = bool(data.get("is_authenticated", bool(self.username)))
        self.is_anonymous = not self.is_authenticated
        self.is_staff = bool(data.get("is_staff", False))
        raw_id = data.get("id")
        self.id = self.pk = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None

    def get_username(self) -> str:
        """Like Django's User.get_username()."""
        return self.username

    def __str__(self) -> str:
        return self.username or "AnonymousUser"

    def __repr__(self) -> str:
        return f"<PlaygroundUser: {self}>"
