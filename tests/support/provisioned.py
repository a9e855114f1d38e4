"""Provisioned users and groups made directly in the database, stored as the SCIM
endpoint stores them (the document, and the columns that mirror it), for tests that need
rows without a SCIM request each. Attributes are given by their SCIM names."""

from scim_app.models import Membership, ScimGroup, ScimUser
from scim_app.resources import groups, users


def user_row(site, user_name: str, **attributes) -> ScimUser:
    """An unsaved user holding exactly `userName` and `attributes`."""
    user = ScimUser(site=site, data={"userName": user_name, "active": True, **attributes})
    users.mirror(user)
    return user


def bare_user(site, user_name: str, **attributes) -> ScimUser:
    user = user_row(site, user_name, **attributes)
    user.save()
    return user


def make_user(site, user_name: str, **attributes) -> ScimUser:
    """A user as Entra typically sends one: a display name, a work email and an
    externalId derived from the userName, unless `attributes` say otherwise."""
    local = user_name.split("@")[0]
    defaults = {
        "displayName": local.replace(".", " ").title(),
        "emails": [{"primary": True, "type": "work", "value": user_name}],
        "externalId": f"ext-{local}",
    }
    return bare_user(site, user_name, **{**defaults, **attributes})


def make_users(site, user_names) -> list[ScimUser]:
    return ScimUser.objects.bulk_create(user_row(site, name) for name in user_names)


def make_group(site, display_name: str, members=(), **attributes) -> ScimGroup:
    group = ScimGroup(site=site, data={"displayName": display_name, **attributes})
    groups.mirror(group)
    group.save()
    Membership.objects.bulk_create(Membership(group=group, user=user) for user in members)
    return group
