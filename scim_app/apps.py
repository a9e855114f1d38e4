from django.apps import AppConfig


class ScimAppConfig(AppConfig):
    name = "scim_app"
    verbose_name = "Provisioning (SCIM)"

    def ready(self) -> None:
        from sat_portal import housekeeping

        from .provisioning_log import retention
        from .resources import lifecycle

        housekeeping.register(retention.prune_job)
        housekeeping.register(lifecycle.purge_expired)
