"""Settings come from the environment; production refuses to start half-configured."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import COMMAND_SECONDS, ROOT, production_env

PRINT_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'layer': s.CHANNEL_LAYERS['default']['BACKEND'],"
    " 'cache': s.CACHES['default']['BACKEND'], 'debug': s.DEBUG}))"
)


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=COMMAND_SECONDS
    )


def test_settings_defaults_are_sqlite_and_in_memory(tmp_path):
    env = production_env(tmp_path, DJANGO_DEBUG="1")
    result = run_python(PRINT_SETTINGS, env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "engine": "config.sqlite_pool",
        "layer": "channels.layers.InMemoryChannelLayer",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "debug": True,
    }


def test_settings_database_and_redis_urls_switch_backends(tmp_path):
    env = production_env(tmp_path, DATABASE_URL="postgres://u@127.0.0.1:5432/x", REDIS_URL="redis://127.0.0.1:6379/3")
    result = run_python(PRINT_SETTINGS, env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "engine": "django.db.backends.postgresql",
        "layer": "config.layer.QuietRedisChannelLayer",
        "cache": "django.core.cache.backends.redis.RedisCache",
        "debug": False,
    }


PRINT_DATABASE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "d = s.DATABASES['default']; print(json.dumps({'conn_max_age': d['CONN_MAX_AGE'], 'options': d['OPTIONS']}))"
)


@pytest.mark.parametrize(
    ("pool_env", "options"),
    [
        ({}, {"pool": {"min_size": 2, "max_size": 10, "timeout": 10}}),
        ({"DATABASE_POOL_MAX_SIZE": "0"}, {}),
        (
            {"DATABASE_POOL_MAX_SIZE": "1", "DATABASE_POOL_MIN_SIZE": "2"},
            {"pool": {"min_size": 1, "max_size": 1, "timeout": 10}},
        ),
    ],
    ids=["default-pool", "no-pool", "min-capped-by-max"],
)
def test_settings_postgresql_pools_connections_by_default(tmp_path, pool_env, options):
    """Django's ASGI advice: no connection kept per thread, the backend's pool instead (0 turns it off)."""
    env = production_env(tmp_path, DATABASE_URL="postgres://u@127.0.0.1:5432/x", **pool_env)
    result = run_python(PRINT_DATABASE, env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"conn_max_age": 0, "options": options}


@pytest.mark.parametrize(
    ("urls", "cache"),
    [
        ({"REDIS_URL": "redis://:pw@10.0.0.5:6379/3"}, "redis://:pw@10.0.0.5:6379/4"),
        ({"REDIS_URL": "redis://127.0.0.1:6379"}, "redis://127.0.0.1:6379/1"),
        (
            {"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_CACHE_URL": "redis://10.0.0.9:6380/0"},
            "redis://10.0.0.9:6380/0",
        ),
    ],
)
def test_settings_cache_and_channel_layer_use_separate_redis_databases(tmp_path, urls, cache):
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps("
        "[s.CACHES['default']['LOCATION'], s.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0]['address']]))"
    )
    result = run_python(code, production_env(tmp_path, **urls))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [cache, urls["REDIS_URL"]]


def test_settings_debug_off_without_secret_fails_fast(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    del env["DJANGO_ALLOWED_HOSTS"]
    result = run_python("import django; django.setup()", env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS must be set" in result.stderr


def test_settings_malformed_boolean_is_named(tmp_path):
    result = run_python("import django; django.setup()", production_env(tmp_path, DJANGO_DEBUG="maybe"))
    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe' is not a yes/no value" in result.stderr


@pytest.mark.parametrize(("threads", "starts"), [("0", False), ("1", True)])
def test_settings_refuse_fewer_than_one_sync_thread(tmp_path, threads, starts):
    """With no thread to lend, every request would wait forever (config/asgi_handler.py)."""
    code = "import django; django.setup(); from django.conf import settings as s; print(s.HTTP_SYNC_THREADS)"
    result = run_python(code, production_env(tmp_path, DJANGO_DEBUG="1", HTTP_SYNC_THREADS=threads))
    if starts:
        assert result.returncode == 0 and result.stdout.strip() == threads, result.stderr
    else:
        assert result.returncode != 0
        assert "HTTP_SYNC_THREADS='0' is below its minimum, 1." in result.stderr


def test_settings_unknown_playground_execution_is_named(tmp_path):
    result = run_python("import django; django.setup()", production_env(tmp_path, PLAYGROUND_EXECUTION="threads"))
    assert result.returncode != 0
    assert "PLAYGROUND_EXECUTION='threads' is not one of page, workers" in result.stderr


def check_deploy(tmp_path, **overrides: str) -> subprocess.CompletedProcess:
    """`manage.py check --deploy` with the production settings of deploy/academy.env, changed by `overrides`."""
    env = production_env(
        tmp_path,
        DJANGO_SECURE_SSL_REDIRECT="1",
        DJANGO_SECURE_COOKIES="1",
        DJANGO_HSTS_SECONDS="31536000",
        DJANGO_HSTS_PRELOAD="1",
        DJANGO_SECRET_KEY="x7#kq!2vZp9@Lm4$Rt8^Wn3&Yb6*Hc1(Jd5)Fg0-Se7+Ua2=Ko9_Qi4~Xr8",
        REDIS_URL="redis://127.0.0.1:6379/0",
        DATABASE_URL="postgres://academy@127.0.0.1:5432/academy",
    )
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )


@pytest.mark.parametrize("execution", ["page", "workers"])
def test_settings_check_deploy_clean_with_production_env(tmp_path, execution):
    result = check_deploy(tmp_path, PLAYGROUND_EXECUTION=execution)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("override", "refusal"),
    [
        ({"DJANGO_ALLOWED_HOSTS": "*"}, "academy.E001"),
        ({"DJANGO_ALLOWED_HOSTS": "academy.example.org,*.example.org"}, "academy.E001"),
        ({"REDIS_URL": ""}, "academy.E002"),
        ({"PLAYGROUND_UNSANDBOXED_DEVELOPMENT": "1"}, "playground.E001"),
        ({"PLAYGROUND_EXECUTION": "workers", "REDIS_URL": ""}, "playground.E003"),
        ({"DJANGO_EMAIL_USE_TLS": "1", "DJANGO_EMAIL_USE_SSL": "1"}, "academy.E003"),
    ],
)
def test_check_deploy_refuses_what_production_must_not_run_with(tmp_path, override, refusal):
    result = check_deploy(tmp_path, **override)
    assert result.returncode != 0
    assert refusal in result.stderr + result.stdout
