"""Sign-up and the throttled password reset; the other account pages are Django's auth views."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.forms import SignUpForm
from accounts.roles import is_instructor
from accounts.throttle import client_address, seconds_until_allowed, wait_phrase

TOO_MANY = 429


def safe_next(request: HttpRequest) -> str:
    """The `next` target if it stays on this site, else home."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "home"


class RoleAwareLoginView(auth_views.LoginView):
    """Log in; without a `next`, instructors land where they work (INSTRUCTOR_LOGIN_REDIRECT_URL), learners at home."""

    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        if is_instructor(self.request.user):
            return resolve_url(settings.INSTRUCTOR_LOGIN_REDIRECT_URL)
        return super().get_default_redirect_url()


def signup(request: HttpRequest) -> HttpResponse:
    """Create a learner account and sign it in; one network may create ACCOUNTS_SIGNUPS_PER_HOUR an hour."""
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        wait = seconds_until_allowed("signup", client_address(request), settings.ACCOUNTS_SIGNUPS_PER_HOUR)
        if not wait:
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(safe_next(request))
        form.add_error(None, f"Too many new accounts from your network. Please try again {wait_phrase(wait)}.")
        status = TOO_MANY
    context = {"form": form, "next": request.GET.get("next", "")}
    return render(request, "registration/signup.html", context, status=status)


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset view, sending at most ACCOUNTS_PASSWORD_RESETS_PER_HOUR mails per network and per address."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        limit = settings.ACCOUNTS_PASSWORD_RESETS_PER_HOUR
        by_network = seconds_until_allowed("reset-ip", client_address(self.request), limit)
        by_address = seconds_until_allowed("reset-email", form.cleaned_data["email"].strip().lower(), limit)
        wait = max(by_network, by_address)
        if not wait:
            return super().form_valid(form)
        form.add_error(None, f"Too many password-reset requests. Please try again {wait_phrase(wait)}.")
        response = self.form_invalid(form)
        response.status_code = TOO_MANY
        return response
