from django.apps import AppConfig


class ScimAppConfig(AppConfig):
    name = "scim_app"
    verbose_name = "Provisioning (SCIM)"
