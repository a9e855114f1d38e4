"""The "Support" group: view-only admin access for support staff (createsupportuser).

Kept in step with the models after every `migrate`, so a new model support should see
is one line in VIEWABLE, not one migration each.
"""

from django.contrib.auth.models import Group, Permission

SUPPORT_GROUP = "Support"
VIEWABLE = {
    "scim_app": ["scimuser", "scimgroup", "membership", "provisioninglogentry"],
    "sites": [
        "msp",
        "site",
        "staff",
        "staffevent",
        "scimtoken",
        "apikey",
        "oauthclient",
        "clientsecret",
        "accesstoken",
        "federationtrust",
        "credentialevent",
        "sitealert",
    ],
}


def sync_support_group(**kwargs) -> None:
    """post_migrate (sent once per app, after Django has created that app's permissions):
    the Support group may view exactly the VIEWABLE models that exist so far."""
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    wanted = Permission.objects.none()
    for label, models in VIEWABLE.items():
        wanted |= Permission.objects.filter(
            content_type__app_label=label, codename__in=[f"view_{model}" for model in models]
        )
    group.permissions.set(wanted)
