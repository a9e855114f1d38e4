"""The site rules the console and the REST API share (`sites.sites`).

Northwind IT (Alice's MSP) has Contoso and Fabrikam; Tailspin has Woodgrove.
"""

import pytest
from django.core.exceptions import ValidationError

from sites import services
from sites.models import Site
from tests.support.api import ApiClient, key_for

DUPLICATE = "Your MSP already has a site with this name."


def test_a_site_is_created_with_training_enabled(msp):
    site = services.create_site(msp, "Adatum")
    assert Site.objects.get(pk=site.pk).sat_enabled
    assert not services.create_site(msp, "Litware", sat_enabled=False).sat_enabled


def test_a_name_the_msp_already_has_is_refused_ignoring_case(msp, contoso, woodgrove):
    with pytest.raises(ValidationError) as refused:
        services.create_site(msp, "CONTOSO")
    assert refused.value.message_dict == {"name": [DUPLICATE]}
    assert services.create_site(woodgrove.msp, "Contoso").name == "Contoso"


def test_renaming_onto_another_sites_name_is_refused_and_changes_nothing(contoso, fabrikam):
    with pytest.raises(ValidationError):
        services.rename_site(fabrikam, "contoso")
    assert fabrikam.name == "Fabrikam"
    assert Site.objects.get(pk=fabrikam.pk).name == "Fabrikam"


def test_a_site_may_change_the_case_of_its_own_name(contoso):
    services.rename_site(contoso, "CONTOSO")
    assert Site.objects.get(pk=contoso.pk).name == "CONTOSO"


def test_training_is_turned_off_and_on(contoso):
    services.set_sat_enabled(contoso, False)
    assert not Site.objects.get(pk=contoso.pk).sat_enabled
    services.set_sat_enabled(contoso, True)
    assert Site.objects.get(pk=contoso.pk).sat_enabled


def test_console_and_api_refuse_a_duplicate_with_the_same_message(
    signed_in, alice, contoso, fabrikam
):
    console = signed_in(alice).post("/sites/add/", {"name": "contoso"})
    assert DUPLICATE.encode() in console.content
    api = ApiClient(key_for(alice))
    assert api.post("sites", {"name": "contoso"}).json() == {"name": [DUPLICATE]}
    renamed = api.patch(f"sites/{fabrikam.public_id}", {"name": "CONTOSO"})
    assert renamed.status_code == 400
    assert renamed.json() == {"name": [DUPLICATE]}
