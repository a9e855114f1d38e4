"""What e-mail alerts were sent (sites.alerts), so that each kind goes to a site's MSP at
most once a day, across processes and restarts."""

from django.db import models

from .tenancy import Site


class SiteAlert(models.Model):
    """The last alert of one kind about one site: one row per site and kind, updated in
    place, so the table never grows beyond that."""

    class Kind(models.TextChoices):
        FAILING = "failing", "Provisioning failing"
        EXPIRING = "expiring", "Credential expiring"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Two processes that notice the same thing: only one claims the alert.
            models.UniqueConstraint(fields=["site", "kind"], name="sites_sitealert_one_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.site} at {self.sent_at:%Y-%m-%d %H:%M}"
