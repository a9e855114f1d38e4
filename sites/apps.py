from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "sites"
    verbose_name = "MSPs and sites"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .sessions import note_sign_in

        user_logged_in.connect(note_sign_in, dispatch_uid="sites.sessions.note_sign_in")
