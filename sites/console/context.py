from django.http import HttpRequest


def principal(request: HttpRequest) -> dict:
    """`principal` in every template: set by console views (decorators.console_view),
    absent elsewhere. Costs no query."""
    return {"principal": getattr(request, "principal", None)}
