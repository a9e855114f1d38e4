"""The console's API keys page: MSP admins create and revoke keys for the REST API."""

from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import api_keys, console


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the key is for, e.g. 'Onboarding'.")


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
    ctx = {"staff": staff, "form": form, "keys": api_keys.keys_of(staff.msp)}
    return render(request, "sites/api_keys.html", ctx)


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, key_id: UUID) -> HttpResponse:
    staff = console.staff_of(request.user)
    console.require_admin(staff)
    key = get_object_or_404(api_keys.keys_of(staff.msp), public_id=key_id)
    if api_keys.revoke_key(key):
        messages.success(request, f"API key “{key.name}” revoked: requests with it now fail.")
    else:
        messages.info(request, f"API key “{key.name}” was already revoked.")
    return redirect("sites:api_keys")
