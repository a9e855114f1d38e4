"""The console's API keys page: MSP admins create and revoke keys for the REST API."""

from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from . import api_keys, console
from .models import MSP
from .views import require_post


class ApiKeyForm(forms.Form):
    """Create API key, as last seen by the person pressing it.

    `newest` is the MSP's newest key when the page was rendered, as in ConfigureForm: a
    reload of the page showing a new key re-sends this same form, and must not create
    (and show) a second key.
    """

    name = forms.CharField(max_length=100, help_text="What the key is for, e.g. 'Onboarding'.")
    newest = forms.IntegerField(min_value=0, required=False)


def newest_key(msp: MSP) -> int:
    return msp.api_keys.order_by("-pk").values_list("pk", flat=True).first() or 0


@login_required
@never_cache
def api_key_list(request: HttpRequest) -> HttpResponse:
    """List the MSP's keys; a POST creates one and shows it, in this response only.

    Rendered, not redirected to: the plaintext is never kept anywhere (session, cache,
    database) from which a later request could show it again.
    """
    staff = console.staff_of(request.user)
    console.require_admin(staff)
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            # One Create at a time per MSP, so two presses cannot both pass the check.
            MSP.objects.select_for_update().filter(pk=staff.msp_id).exists()
            if form.cleaned_data["newest"] != newest_key(staff.msp):
                messages.warning(
                    request,
                    "That page was out of date (a key was created since), so no key was "
                    "created. Press Create API key again for a new one.",
                )
                return redirect("sites:api_keys")
            key, plaintext = api_keys.issue_key(
                staff.msp, name=form.cleaned_data["name"], by=request.user
            )
        ctx = {
            "staff": staff,
            "key": key,
            "api_key": plaintext,
            "api_url": request.build_absolute_uri(reverse("api:sites")),
        }
        return render(request, "sites/api_keys_issued.html", ctx)
    keys = list(api_keys.keys_of(staff.msp))
    ctx = {
        "staff": staff,
        "form": form,
        "keys": keys,
        "newest": max((key.pk for key in keys), default=0),
    }
    return render(request, "sites/api_keys.html", ctx)


@login_required
@require_post
def api_key_revoke(request: HttpRequest, key_id: UUID) -> HttpResponse:
    staff = console.staff_of(request.user)
    console.require_admin(staff)
    key = get_object_or_404(api_keys.keys_of(staff.msp), public_id=key_id)
    if api_keys.revoke_key(key):
        messages.success(request, f"API key “{key.name}” revoked: requests with it now fail.")
    else:
        messages.info(request, f"API key “{key.name}” was already revoked.")
    return redirect("sites:api_keys")
