from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "sites"
    verbose_name = "MSPs and sites"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, post_migrate, post_save

        from sat_portal import housekeeping

        from . import models, remembered
        from .alerts import alert_job
        from .sessions import note_sign_in
        from .support import sync_support_group

        user_logged_in.connect(note_sign_in, dispatch_uid="sites.sessions.note_sign_in")
        post_migrate.connect(sync_support_group, dispatch_uid="sites.support.sync_support_group")
        housekeeping.register(alert_job)
        # What SCIM workers remember of a credential (sites.remembered).
        for model in (
            models.MSP,
            models.Site,
            models.ScimToken,
            models.OAuthClient,
            models.ClientSecret,
            models.FederationTrust,
            models.AccessToken,
        ):
            for signal in (post_save, post_delete):
                signal.connect(remembered.forget_on_change, sender=model)
