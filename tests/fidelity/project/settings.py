"""Settings of the small project the fidelity suite serves with a real Daphne: what `startproject` plus Channels gives
a learner (auth, sessions, SQLite, the in-memory channel layer), nothing of Channels Academy's own."""

import os

SECRET_KEY = "fidelity-suite-only-" + "k" * 40
DEBUG = False
# The sandbox's clients come from http://playground; the harness's clients send the same Origin, so the learner's
# own origin checks see the same value on both sides.
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "playground"]
# FIDELITY_APPS_BEFORE lets a claim test put apps first in a chosen order (daphne after staticfiles: daphne.E001).
INSTALLED_APPS = [
    *filter(None, os.environ.get("FIDELITY_APPS_BEFORE", "").split(",")),
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "channels",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["FIDELITY_DATABASE"]}}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
ASGI_APPLICATION = "tests.fidelity.project.asgi.application"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
