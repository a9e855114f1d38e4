from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from sat_portal import ratelimit
from sat_portal.addresses import client_address

from .models import Site

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


class SiteForm(forms.Form):
    """The name of a new site; whether the MSP already has it is `sites.create_site`'s
    to say."""

    name = forms.CharField(max_length=Site._meta.get_field("name").max_length)


class SiteSearchForm(forms.Form):
    # A CharField refuses NUL characters, which PostgreSQL cannot compare against.
    q = forms.CharField(required=False, max_length=200)


class SatEnabledForm(forms.Form):
    enabled = forms.TypedChoiceField(
        choices=[("true", "Enable"), ("false", "Disable")], coerce=lambda value: value == "true"
    )


class ConfigureForm(forms.Form):
    """Configure Microsoft Entra Integration, as last seen by the person pressing it.

    `newest` is the site's newest token when the settings page was rendered. If a token
    was issued since (a reload of the page showing the token re-sends this same form, or
    a double click), no second token is issued: a reload must not show a Secret Token.
    """

    newest = forms.IntegerField(min_value=0)
