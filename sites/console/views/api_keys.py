"""The API keys page: MSP admins create and revoke keys for the REST API."""

from uuid import UUID

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from sites.access import Principal
from sites.credentials import api_keys
from sites.models import MSP

from ..decorators import console_view, require_post
from ..forms import ApiKeyForm


def newest_key(msp: MSP) -> int:
    return msp.api_keys.order_by("-pk").values_list("pk", flat=True).first() or 0


@never_cache
@console_view(admin=True)
def api_key_list(request: HttpRequest, principal: Principal) -> HttpResponse:
    """List the MSP's keys; a POST creates one and shows it, in this response only.

    Rendered, not redirected to: the plaintext is never kept anywhere (session, cache,
    database) from which a later request could show it again.
    """
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            # One Create at a time per MSP, so two presses cannot both pass the check.
            MSP.objects.select_for_update().filter(pk=principal.msp.pk).exists()
            if form.cleaned_data["newest"] != newest_key(principal.msp):
                messages.warning(
                    request,
                    "That page was out of date (a key was created since), so no key was "
                    "created. Press Create API key again for a new one.",
                )
                return redirect("console:api_keys")
            key, plaintext = api_keys.issue_key(
                principal.msp, name=form.cleaned_data["name"], by=request.user
            )
        ctx = {
            "key": key,
            "api_key": plaintext,
            "api_url": request.build_absolute_uri(reverse("api:sites")),
        }
        return render(request, "console/api_keys_issued.html", ctx)
    keys = list(api_keys.keys_of(principal.msp))
    ctx = {"form": form, "keys": keys, "newest": max((key.pk for key in keys), default=0)}
    return render(request, "console/api_keys.html", ctx)


@require_post
@console_view(admin=True)
def api_key_revoke(request: HttpRequest, principal: Principal, key_id: UUID) -> HttpResponse:
    key = get_object_or_404(api_keys.keys_of(principal.msp), public_id=key_id)
    if api_keys.revoke_key(key, by=request.user):
        messages.success(request, f"API key “{key.name}” revoked: requests with it now fail.")
    else:
        messages.info(request, f"API key “{key.name}” was already revoked.")
    return redirect("console:api_keys")
