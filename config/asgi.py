"""ASGI entry point: HTTP to Django (health probes and static files first), WebSockets through the origin check and session,
and the playground worker channel for `manage.py runworker playground-runs`."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)

from config.asgi_handler import OneHopASGIHandler  # noqa: E402

django_asgi_app = OneHopASGIHandler()

# Imported after Django is set up: routing modules import models and consumers.
from channels.routing import ChannelNameRouter, ProtocolTypeRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from challenges.loader import get_challenges  # noqa: E402
from config.body_limit import BodySizeLimit  # noqa: E402
from config.health import HealthProbes  # noqa: E402
from config.proxy import TrustedProxyHeaders  # noqa: E402
from config.routing import websocket_application  # noqa: E402
from config.static_asgi import StaticFilesApp  # noqa: E402
from lessons.catalogue import get_catalogue  # noqa: E402
from playground.worker import RunWorkerConsumer  # noqa: E402
from quizzes.bank import get_bank  # noqa: E402

# Load and validate content/ now: broken content stops the server at start, not on a learner's request,
# and the first learners do not each build the question bank (seconds of CPU) while racing for it.
get_catalogue()
get_bank()
get_challenges()

# X-Forwarded-* believed from the trusted proxies only (config/proxy.py), before anything reads the scope.
application = TrustedProxyHeaders(
    ProtocolTypeRouter(
        {
            "http": HealthProbes(StaticFilesApp(BodySizeLimit(django_asgi_app))),
            "websocket": websocket_application,
            "channel": ChannelNameRouter({settings.PLAYGROUND_WORKER_CHANNEL: RunWorkerConsumer.as_asgi()}),
        }
    )
)
