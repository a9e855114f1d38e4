from django.conf import settings
from rest_framework.throttling import BaseThrottle

from sat_portal import ratelimit
from sites.models import ApiKey


class ApiKeyRateThrottle(BaseThrottle):
    """API_RATE_LIMIT requests per API key (or per signed-in user), e.g. "600/min".

    Counted in the shared cache (`sat_portal.ratelimit`): with REDIS_URL set, the limit
    holds across every worker and node.
    """

    def allow_request(self, request, view) -> bool:
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.public_id}"
        elif request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return True
        # Read on every request rather than at import, so the setting can change in tests.
        rate = ratelimit.Rate.parse(settings.API_RATE_LIMIT)
        self.retry_after = ratelimit.hit("api", ident, rate)
        return self.retry_after is None

    def wait(self) -> float | None:
        return self.retry_after
