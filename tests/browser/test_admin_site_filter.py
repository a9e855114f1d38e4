"""The admin's site filter in Chromium: support types part of a site's name, picks it,
and the list shows that site's users only (there are too many sites to list them all)."""

import pytest
from django.contrib.auth import get_user_model

from sites.models import MSP, Site
from tests.support.provisioned import make_user

pytestmark = pytest.mark.browser
PASSWORD = "root-password-for-browser-tests"


def test_support_filters_provisioned_users_by_typing_a_site_name(transactional_db, page):
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    msp = MSP.objects.create(name="Northwind IT")
    contoso = Site.objects.create(msp=msp, name="Contoso")
    fabrikam = Site.objects.create(msp=msp, name="Fabrikam")
    make_user(contoso, "dana.fisher@contoso.example")
    make_user(fabrikam, "frank.ho@fabrikam.example")

    page.goto("/admin/login/?next=/admin/scim_app/scimuser/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.locator("details[data-filter-title='site'] .select2-selection").click()
    page.keyboard.type("fabri")
    page.locator(".select2-results__option", has_text="Fabrikam").click()

    page.wait_for_url(f"**/admin/scim_app/scimuser/?site={fabrikam.pk}")
    assert page.get_by_role("link", name="frank.ho@fabrikam.example").is_visible()
    assert page.get_by_text("dana.fisher@contoso.example").count() == 0
    assert "Fabrikam" in page.locator("details[data-filter-title='site'] li.selected").inner_text()
