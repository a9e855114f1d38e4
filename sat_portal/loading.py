"""Rows turned into model instances without Model.__init__ (issue 16).

Every SCIM request loads three instances: its credential, the credential's site and the
user or group it reads or changes. Django builds each through Model.__init__, which
sends the pre_init and post_init signals and sets every field through `setattr`, one
call per column: about a tenth of the Python CPU of a GET by id. For a fully loaded
row of a model with plain fields, all that ends in the instance's `__dict__` holding
each column's value under its attname, which `from_db` (Django's documented hook for
how rows become instances) can write at once.
"""

import functools

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.base import ModelState
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

# What a plain field (or a foreign key's id) puts on the class: writing the value to the
# instance's __dict__ is all its assignment does on a new instance.
PLAIN_DESCRIPTORS = (DeferredAttribute,)


@functools.cache
def attnames(model: type[models.Model]) -> tuple[str, ...]:
    """The attnames of `model`'s columns, in the order a full row holds them."""
    fields = model._meta.concrete_fields
    special = [
        field.name
        for field in fields
        if not isinstance(model.__dict__.get(field.attname), PLAIN_DESCRIPTORS)
    ]
    if special:
        raise ImproperlyConfigured(f"{model.__name__}: {special} are not plain fields")
    return tuple(field.attname for field in fields)


class LoadedAsIs(models.Model):
    """A model whose full rows load straight into the instance's __dict__: what
    Model.__init__ would leave there, without its signals and per-field calls. A row with
    deferred columns, or a model someone listens to pre_init or post_init of, loads as
    Django would."""

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        if (
            len(values) != len(cls._meta.concrete_fields)
            or pre_init.has_listeners(cls)
            or post_init.has_listeners(cls)
        ):
            return super().from_db(db, field_names, values)
        instance = cls.__new__(cls)
        state = instance._state = ModelState()
        state.adding, state.db = False, db
        instance.__dict__.update(zip(attnames(cls), values, strict=True))
        return instance
