import hashlib

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest

from .models import MSP, Site


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, refusing a username from an address after too many failures.

    Counted per username and client address, so that one guesser can neither try many
    passwords nor lock a colleague out from elsewhere. The count lives in the cache
    (LOGIN_FAILURE_LIMIT failures per LOGIN_FAILURE_WINDOW seconds).
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed sign-in attempts. Try again in %(minutes)d minutes.",
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()
        key = failure_key(self.request, username)
        if cache.get(key, 0) >= settings.LOGIN_FAILURE_LIMIT:
            raise forms.ValidationError(
                self.error_messages["throttled"],
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


def failure_key(request: HttpRequest | None, username: str) -> str:
    address = request.META.get("REMOTE_ADDR", "") if request else ""
    # Hashed: usernames are user input and cache keys must be short and plain.
    digest = hashlib.sha256(f"{username.casefold()}\0{address}".encode()).hexdigest()
    return f"login-failures:{digest}"


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ["name"]

    def __init__(self, *args, msp: MSP, **kwargs):
        super().__init__(*args, instance=Site(msp=msp), **kwargs)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        # The database refuses the same name twice per MSP, ignoring case
        # (sites_site_name_unique_per_msp); say so here instead of failing on save.
        if Site.objects.filter(msp=self.instance.msp, name__iexact=name).exists():
            raise forms.ValidationError("Your MSP already has a site with this name.")
        return name


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
