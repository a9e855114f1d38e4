"""Rows loaded straight into instances (sat_portal.loading): the same instances as
Django's Model.__init__ would build, and Django's own way whenever that could differ."""

import pytest
from django.db import models
from django.db.models.signals import post_init

from scim_app.models import ScimGroup, ScimUser
from sites.models import ScimToken, Site

pytestmark = pytest.mark.django_db


def as_django_loads(instance: models.Model) -> models.Model:
    """The same row loaded through Model.__init__, as Django's own from_db does."""
    model = type(instance)
    values = [getattr(instance, field.attname) for field in model._meta.concrete_fields]
    names = [field.attname for field in model._meta.concrete_fields]
    return models.Model.from_db.__func__(model, "default", names, values)


def fields_of(instance: models.Model) -> dict:
    return {key: value for key, value in vars(instance).items() if key != "_state"}


@pytest.fixture
def provisioned(contoso_scim):
    user = contoso_scim.post(
        "Users", {"userName": "ada@contoso.example", "name": {"givenName": "Ada"}}
    ).json()
    contoso_scim.post("Groups", {"displayName": "Staff", "members": [{"value": user["id"]}]})


def test_a_loaded_row_is_the_instance_django_would_build(provisioned):
    token = ScimToken.objects.select_related("site").get()
    loaded = [token, token.site, ScimUser.objects.get(), ScimGroup.objects.get()]
    for instance in loaded:
        row = type(instance).objects.filter(pk=instance.pk).values().get()
        assert fields_of(instance) == row
        assert fields_of(instance) == fields_of(as_django_loads(instance))
        assert instance._state.adding is False and instance._state.db == "default"
        assert instance.get_deferred_fields() == set()


def test_a_loaded_user_saves_refreshes_and_follows_its_site(provisioned, contoso):
    user = ScimUser.objects.get()
    assert user.site == contoso
    user.title = "Engineer"
    user.save()
    user.refresh_from_db()
    assert user.title == "Engineer"
    assert ScimUser.objects.get(title="Engineer").pk == user.pk


def test_a_row_with_deferred_columns_loads_as_django_does(provisioned):
    user = ScimUser.objects.only("user_name").get()
    assert user.get_deferred_fields() >= {"data", "title"}
    assert user.user_name == "ada@contoso.example"
    assert user.data["name"]["givenName"] == "Ada"  # loaded when first read


def test_a_model_someone_listens_to_loads_through_its_init(provisioned):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Site)
    try:
        site = Site.objects.get()
    finally:
        post_init.disconnect(receiver, sender=Site)
    assert seen == [site]
