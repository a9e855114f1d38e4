import hashlib

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest

from .models import Site

THROTTLED = "Too many failed sign-in attempts. Try again in %(minutes)d minutes."


class LoginThrottling:
    """Refuses a username from an address after too many failed sign-ins; for Django's
    sign-in forms (the console's and the admin's).

    Counted per username and client address, so that one guesser can neither try many
    passwords nor lock a colleague out from elsewhere. The count lives in the cache
    (LOGIN_FAILURE_LIMIT failures per LOGIN_FAILURE_WINDOW seconds), shared by both
    forms: failures at one count at the other.
    """

    def clean(self):
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()
        key = failure_key(self.request, username)
        if cache.get(key, 0) >= settings.LOGIN_FAILURE_LIMIT:
            raise forms.ValidationError(
                THROTTLED,
                code="throttled",
                params={"minutes": max(1, settings.LOGIN_FAILURE_WINDOW // 60)},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            # add() starts the window at the first failure; incr() does not extend it.
            cache.add(key, 0, timeout=settings.LOGIN_FAILURE_WINDOW)
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.set(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW)
            raise
        cache.delete(key)
        return cleaned


class ThrottledAuthenticationForm(LoginThrottling, AuthenticationForm):
    """The console's sign-in form."""


class ThrottledAdminAuthenticationForm(LoginThrottling, AdminAuthenticationForm):
    """The admin's sign-in form (staff only), throttled like the console's."""


def failure_key(request: HttpRequest | None, username: str) -> str:
    address = request.META.get("REMOTE_ADDR", "") if request else ""
    # Hashed: usernames are user input and cache keys must be short and plain.
    digest = hashlib.sha256(f"{username.casefold()}\0{address}".encode()).hexdigest()
    return f"login-failures:{digest}"


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
