from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from sites.models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    """API_RATE_LIMIT requests per API key (or per signed-in user), e.g. "600/min".

    Counts live in Django's cache: with the default per-process cache each server
    process counts on its own.
    """

    scope = "api"

    def get_rate(self) -> str:
        # Read on every request rather than at import, so the setting can change in tests.
        return settings.API_RATE_LIMIT

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.public_id}"
        elif request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}
