"""Where a piece of text is stored: every text column of every table, and sessions."""

from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import models


def columns_containing(text: str) -> list[str]:
    """`app.Model.field` of each text column in which some row contains `text`, and
    `session` if a decoded session does (session data is stored compressed)."""
    found = []
    for model in apps.get_models():
        text_fields = [
            field
            for field in model._meta.concrete_fields
            if isinstance(field, (models.CharField, models.TextField))
        ]
        for field in text_fields:
            if model._default_manager.filter(**{f"{field.name}__contains": text}).exists():
                found.append(f"{model._meta.label}.{field.name}")
    if any(text in str(session.get_decoded()) for session in Session.objects.all()):
        found.append("session")
    return found
