"""The console's forms: each only checks the shape of what was typed; whether it is
allowed is the rule functions' to say (sites.services, sites.credentials)."""

from django import forms
from django.core.exceptions import ValidationError

from sites import status
from sites.credentials import federation
from sites.models import Site, Staff
from sites.team import EMAIL_MAX_LENGTH


class SiteForm(forms.Form):
    """The name of a new site; whether the MSP already has it is `services.create_site`'s
    to say."""

    name = forms.CharField(max_length=Site._meta.get_field("name").max_length)


class SiteSearchForm(forms.Form):
    """The Sites list's search by name and filter by state (sites.status.STATES)."""

    # A CharField refuses NUL characters, which PostgreSQL cannot compare against.
    q = forms.CharField(label="Search", required=False, max_length=200)
    state = forms.ChoiceField(
        label="Show", required=False, choices=[("", "All sites"), *status.STATES.items()]
    )


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


class ClientSecretForm(forms.Form):
    """Set up OAuth 2.0 client credentials, or Add secret, as last seen: as in
    ConfigureForm, `newest_secret` is the site's newest client secret when the page was
    rendered (a reload must not show a second secret). The secret lasts `lifetime_days`."""

    newest_secret = forms.IntegerField(min_value=0)
    # Whether it is 1 to 3 years is the rule's to say (oauth.issue_secret).
    lifetime_days = forms.IntegerField()


class ApiKeyForm(forms.Form):
    """Create API key, as last seen by the person pressing it.

    `newest` is the MSP's newest key when the page was rendered, as in ConfigureForm: a
    reload of the page showing a new key re-sends this same form, and must not create
    (and show) a second key.
    """

    name = forms.CharField(max_length=100, help_text="What the key is for, e.g. 'Onboarding'.")
    newest = forms.IntegerField(min_value=0, required=False)


class InviteForm(forms.Form):
    """Invite a colleague, as last seen by the person pressing it.

    `newest` is the MSP's newest membership when the page was rendered, as in ApiKeyForm:
    a reload of the page showing an invitation link re-sends this same form, and must not
    invite (and show a link) again. Whether the address is free is `team.invite`'s to say.
    """

    email = forms.EmailField(max_length=EMAIL_MAX_LENGTH, label="Email address")
    role = forms.ChoiceField(choices=Staff.Role.choices, initial=Staff.Role.READ_ONLY)
    newest = forms.IntegerField(min_value=0, required=False)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Staff.Role.choices)


class FederationTrustForm(forms.Form):
    """Workload identity federation: the four values Entra shows for the app (and,
    optionally, its tenant id), each pasted as shown. The rules that decide whether they
    are acceptable are federation.validate's; their messages land on the fields."""

    issuer = forms.CharField(
        max_length=300, help_text="https://login.microsoftonline.com/<tenant ID>/v2.0"
    )
    jwks_url = forms.CharField(
        label="JWKS URL",
        max_length=500,
        help_text="https://login.microsoftonline.com/<tenant ID>/discovery/v2.0/keys",
    )
    subject = forms.CharField(max_length=200, help_text="An object ID.")
    audience = forms.CharField(max_length=300, help_text="api://<app ID>, or the app ID.")
    tenant_id = forms.CharField(
        label="Tenant ID (optional)",
        max_length=36,
        required=False,
        help_text="When given, assertions must carry it as their tid.",
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.values = federation.validate(**data)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return data
