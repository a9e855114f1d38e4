from django.apps import AppConfig


class ScimAppConfig(AppConfig):
    name = "scim_app"
    verbose_name = "Provisioning (SCIM)"

    def ready(self) -> None:
        from sat_portal import housekeeping

        from .provisioning_log import activity, retention
        from .resources import lifecycle

        # The rollup before the retention, so no hour is pruned before it is counted.
        housekeeping.register(activity.rollup_job)
        housekeeping.register(retention.prune_job)
        housekeeping.register(lifecycle.purge_expired)
