"""What the commands that issue a site's credentials share: finding the site by name."""

from django.core.management.base import CommandError

from sites.models import Site


def site_named(name: str) -> Site:
    """The one site so named, ignoring case, in any MSP; CommandError if none or several."""
    sites = list(Site.objects.filter(name__iexact=name).select_related("msp")[:2])
    if not sites:
        raise CommandError(f"No site is named {name!r}.")
    if len(sites) > 1:
        raise CommandError(f"More than one MSP has a site named {name!r}.")
    return sites[0]
