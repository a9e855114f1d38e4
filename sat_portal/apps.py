from django.contrib.admin.apps import AdminConfig


class SupportAdminConfig(AdminConfig):
    """Django's admin, with our site (sat_portal.admin.SupportAdminSite) as `admin.site`."""

    default_site = "sat_portal.admin.SupportAdminSite"
