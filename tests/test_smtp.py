"""Password-reset mail through a real SMTP relay (aiosmtpd) that demands a login over TLS, configured from the
environment as deploy/academy.env.example does, sent by a real Daphne."""

from __future__ import annotations

import http.cookiejar
import re
import ssl
import subprocess
import threading
import urllib.parse
import urllib.request

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import COMMAND_SECONDS, DaphneServer, free_port, shared_server_env
from tests.factories import make_user

RELAY_USER = "academy-relay"
RELAY_PASSWORD = "s3cret relay password"


class Inbox:
    """What the relay accepted: each mail with the login it came with and whether the session was encrypted."""

    def __init__(self) -> None:
        self.mails: list[dict] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.mails.append(
            {
                "login": session.auth_data.login.decode() if session.authenticated else None,
                "to": envelope.rcpt_tos,
                "text": envelope.content.decode(),
                "starttls": session.ssl is not None,
            }
        )
        self.arrived.set()
        return "250 OK"


def check_login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    """The relay's one account."""
    ok = isinstance(auth_data, LoginPassword) and auth_data == (RELAY_USER.encode(), RELAY_PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost; the Daphne trusts it through SSL_CERT_FILE."""
    folder = tmp_path_factory.mktemp("smtp-tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", folder / "key.pem", "-out", folder / "cert.pem"],
        check=True, capture_output=True, timeout=COMMAND_SECONDS,
    )  # fmt: skip
    return folder / "cert.pem", folder / "key.pem"


def relay(encryption: str, certificate) -> tuple[Controller, Inbox]:
    """An SMTP server on a free port that accepts mail only after AUTH, over STARTTLS or SMTPS."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    inbox = Inbox()
    tls = {"tls_context": context, "auth_require_tls": True} if encryption == "starttls" else {"ssl_context": context}
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        server_hostname="localhost",
        authenticator=check_login,
        auth_required=True,
        **({"auth_require_tls": False} | tls),
    )
    controller.start()
    return controller, inbox


def ask_for_reset(url: str, email: str) -> None:
    """Fill in the password-reset form as a learner does (CSRF token and cookie included)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(url + "/accounts/password/reset/", timeout=60).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "email": email}).encode()
    request = urllib.request.Request(url + "/accounts/password/reset/", data=form, headers={"Referer": url + "/"})
    with opener.open(request, timeout=60) as response:
        assert response.url.endswith("/accounts/password/reset/done/")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("encryption", "setting"), [("starttls", "DJANGO_EMAIL_USE_TLS"), ("smtps", "DJANGO_EMAIL_USE_SSL")]
)
def test_password_reset_mail_reaches_a_relay_that_wants_a_login_over_tls(
    tmp_path, collected_static, certificate, encryption, setting
):
    make_user("mailed-learner", email="mailed@example.org")
    controller, inbox = relay(encryption, certificate)
    env = shared_server_env(collected_static)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",  # the production mail settings, not the suite's locmem
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "DJANGO_EMAIL_HOST": "localhost",  # the certificate's name: the backend verifies it
            "DJANGO_EMAIL_PORT": str(controller.port),
            "DJANGO_EMAIL_HOST_USER": RELAY_USER,
            "DJANGO_EMAIL_HOST_PASSWORD": RELAY_PASSWORD,
            setting: "1",
            "SSL_CERT_FILE": str(certificate[0]),  # trust the self-signed relay, as a private CA would be
        }
    )
    server = DaphneServer(env, tmp_path / "daphne.log")
    try:
        ask_for_reset(server.url, "mailed@example.org")
        assert inbox.arrived.wait(60), server.log_text()
    finally:
        server.stop()
        controller.stop()
    (mail,) = inbox.mails
    assert mail["login"] == RELAY_USER
    assert mail["to"] == ["mailed@example.org"]
    assert mail["starttls"] is (encryption == "starttls")
    assert re.search(r"http://127\.0\.0\.1:\d+/accounts/password/reset/\w+/[\w-]+/", mail["text"])
