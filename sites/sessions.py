"""Console and admin sessions end after SESSION_IDLE_TIMEOUT without a request.

Django's session lives SESSION_COOKIE_AGE from its last save. Saving it on every request
(SESSION_SAVE_EVERY_REQUEST) would cost a database write per page, so the session notes
when it was last seen and is saved, pushing its expiry forward, at most once a minute.
"""

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

SEEN = "_seen"
RESOLUTION = 60


def note_sign_in(sender, request: HttpRequest, user, **kwargs) -> None:
    """user_logged_in: a new session starts as seen now."""
    request.session[SEEN] = int(time.time())


class SlidingSessionExpiry:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only sessions this request loaded anyway (a signed-in page): no extra query.
        if session is not None and session.accessed and not session.is_empty():
            now = int(time.time())
            if now - session.get(SEEN, 0) >= RESOLUTION:
                session[SEEN] = now  # SessionMiddleware saves it and renews the cookie
        return response
