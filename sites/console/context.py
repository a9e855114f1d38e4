from django.http import HttpRequest


def principal(request: HttpRequest) -> dict:
    """`principal` in every template: set by console views (decorators.console_view),
    absent elsewhere. Costs no query."""
    return {"principal": getattr(request, "principal", None)}


# The top bar's links, by the URL names of the pages they lead to.
NAV_PAGES = {"list": "sites", "team": "team", "api_keys": "api_keys", "help": "help"}


def navigation(request: HttpRequest) -> dict:
    """`nav_current`: which top bar link is the page shown (its aria-current="page"), if
    any. Costs no query."""
    match = request.resolver_match
    if match is None or match.namespace != "console":
        return {"nav_current": None}
    return {"nav_current": NAV_PAGES.get(match.url_name)}
