"""What every console view needs: a signed-in member of an MSP, and (for changes) an
admin of it, resolved once per request as `sites.access.Principal`."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from sites import access
from sites.models import Site


def console_view(*, admin: bool = False) -> Callable:
    """Sign-in required; the view gets the principal after the request (also set as
    `request.principal` for templates). A login without an MSP gets 403, and so does a
    read-only member where `admin` is required."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            principal = access.of(request)
            if principal is None:
                raise PermissionDenied(access.NO_MSP)
            if admin:
                principal.require_write()
            request.principal = principal
            return view(request, principal, *args, **kwargs)

        return wrapped

    return decorate


def site_or_404(principal: access.Principal, public_id) -> Site:
    """A site of the principal's MSP; another MSP's is a 404 like one that does not exist."""
    try:
        return principal.site(public_id)
    except Site.DoesNotExist:
        raise Http404("No such site.") from None


def post_only_page(request: HttpRequest) -> HttpResponse:
    """The 405 for a URL that only a form's button posts to, as a console page rather
    than an empty body: someone who followed or bookmarked it sees what happened."""
    response = render(request, "405.html", {"method": request.method}, status=405)
    response["Allow"] = "POST"
    return response


def require_post(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like Django's require_POST, answering with `post_only_page`."""

    @wraps(view)
    def post_only(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return post_only_page(request)
        return view(request, *args, **kwargs)

    return post_only


CONFIRMED = "confirmed"


def confirmation_page(
    request: HttpRequest, question: str, *, action: str, cancel_url: str
) -> HttpResponse | None:
    """Destructive actions ask first. With script, the page's dialog (static/console.js)
    asks and adds `confirmed=yes` to the form; without it, this answers the first POST
    with a page that asks and, confirmed, posts the same form again. None once confirmed."""
    if request.POST.get(CONFIRMED) == "yes":
        return None
    fields = [
        (key, value)
        for key, values in request.POST.lists()
        if key not in ("csrfmiddlewaretoken", CONFIRMED)
        for value in values
    ]
    ctx = {"question": question, "action": action, "fields": fields, "cancel_url": cancel_url}
    return render(request, "console/confirm.html", ctx)
