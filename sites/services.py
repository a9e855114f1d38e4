"""Site rules: creating, renaming and turning training on or off for a site.

The console and the REST API both call these, so a rule (one name per MSP, ignoring
case) is written once and answered the same way by both.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from scim_app.resources import lifecycle

from .models import MSP, Site

DUPLICATE_NAME = "Your MSP already has a site with this name."


def _refuse_duplicate(msp_id: int, name: str, site: Site | None = None) -> None:
    others = Site.objects.filter(msp_id=msp_id, name__iexact=name)
    if site is not None:
        others = others.exclude(pk=site.pk)
    if others.exists():
        raise ValidationError({"name": [DUPLICATE_NAME]}, code="duplicate")


def _save(site: Site, **kwargs) -> None:
    # The database refuses the same name twice per MSP, ignoring case
    # (sites_site_name_unique_per_msp): a concurrent request, or names equal only under
    # the database's lower-casing, gets the same message as the check above.
    try:
        with transaction.atomic():
            site.save(**kwargs)
    except IntegrityError:
        raise ValidationError({"name": [DUPLICATE_NAME]}, code="duplicate") from None


def create_site(msp: MSP, name: str, *, sat_enabled: bool = True) -> Site:
    """Add a site to `msp`; ValidationError (on `name`) if the MSP has one so named."""
    _refuse_duplicate(msp.pk, name)
    site = Site(msp=msp, name=name, sat_enabled=sat_enabled)
    _save(site)
    return site


def rename_site(site: Site, name: str) -> None:
    """Rename `site`; ValidationError (on `name`) if another site of its MSP has it."""
    if name == site.name:
        return
    _refuse_duplicate(site.msp_id, name, site)
    old = site.name
    site.name = name
    try:
        _save(site, update_fields=["name"])
    except ValidationError:
        site.name = old
        raise


def set_sat_enabled(site: Site, enabled: bool) -> None:
    """Turn Security Awareness Training on or off. While it is off, Entra's requests
    with the site's tokens are refused (scim_app.auth), and no token can be issued."""
    if site.sat_enabled == enabled:
        return
    site.sat_enabled = enabled
    site.save(update_fields=["sat_enabled"])


def delete_site(site: Site, typed_name: str) -> None:
    """Delete `site` and everything of it: its provisioned users and groups, credentials
    and provisioning log. Only when `typed_name` is its name (ignoring case and spaces
    around it): the console asks for it, as the deletion cannot be undone."""
    if typed_name.strip().casefold() != site.name.casefold():
        raise ValidationError({"name": ["Type the site's name exactly to delete it."]})
    with transaction.atomic():
        lifecycle.delete_site_data(site)
        site.delete()
