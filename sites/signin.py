"""Signing in to the console and the admin: the lock against password guessing."""

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from sat_portal import ratelimit
from sat_portal.addresses import client_address

THROTTLED = "Too many failed sign-in attempts. Try again in %(minutes)d minutes."


class LoginThrottling:
    """Refuses a username after too many failed sign-ins; for Django's sign-in forms (the
    console's and the admin's, which share the counts).

    Two counts, in the cache that every worker and node shares (REDIS_URL): per username
    and client address (LOGIN_FAILURE_LIMIT), so one guesser is stopped quickly without
    locking a colleague out from elsewhere; and per username from any address
    (LOGIN_FAILURE_USERNAME_LIMIT), so spreading guesses over many addresses does not get
    round the first. Each window (LOGIN_FAILURE_WINDOW) starts at the first failure.
    """

    def clean(self):
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()
        user_key = username.casefold()
        pair = (user_key, client_address(self.request) if self.request else "")
        if (
            ratelimit.failures("login-failures", *pair) >= settings.LOGIN_FAILURE_LIMIT
            or ratelimit.failures("login-failures-user", user_key)
            >= settings.LOGIN_FAILURE_USERNAME_LIMIT
        ):
            raise forms.ValidationError(
                THROTTLED,
                code="throttled",
                params={"minutes": max(1, settings.LOGIN_FAILURE_WINDOW // 60)},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            window = settings.LOGIN_FAILURE_WINDOW
            ratelimit.add_failure("login-failures", *pair, window=window)
            ratelimit.add_failure("login-failures-user", user_key, window=window)
            raise
        ratelimit.clear_failures("login-failures", *pair)
        return cleaned


class ThrottledAuthenticationForm(LoginThrottling, AuthenticationForm):
    """The console's sign-in form."""


class ThrottledAdminAuthenticationForm(LoginThrottling, AdminAuthenticationForm):
    """The admin's sign-in form (staff only), throttled like the console's."""
