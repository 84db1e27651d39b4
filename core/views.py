"""The base of every API view: the query parameters a view accepts are the fields of its query serializer.

Anything else in the query string is refused with its name (400 `validation_error`): a typo such as
`atriskdays=7` must not silently widen a list to everything.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any, ClassVar

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from .api import ValidationFailed


@cache
def _field_names(serializer_class: type[serializers.Serializer]) -> frozenset[str]:
    # Building a serializer copies its declared fields; the names never change, so work them out once.
    return frozenset(serializer_class().fields)


_serializers = threading.local()


def _serializer(serializer_class: type[serializers.Serializer], data: Any) -> serializers.Serializer:
    """A serializer of this class bound to `data`, reusing this thread's previous one.

    Building a DRF serializer deep-copies its declared fields, nested serializers included: for the intake
    body that copy costs more than validating it. Validation keeps no state on the fields, so each thread
    keeps one instance per class and binds the next data to it.
    """
    cache = _serializers.__dict__.setdefault("by_class", {})
    serializer = cache.get(serializer_class)
    if serializer is None:
        serializer = cache[serializer_class] = serializer_class(data=data)
        return serializer
    for name in ("_validated_data", "_errors", "_data"):
        serializer.__dict__.pop(name, None)
    serializer.initial_data = data
    return serializer


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = _serializer(serializer_class, data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ApiView(APIView):
    """`query_serializer` describes the GET (and HEAD) query string; other methods take none."""

    query_serializer: ClassVar[type[serializers.Serializer] | None] = None

    def accepted_query_params(self, request: Request) -> frozenset[str]:
        if self.query_serializer is None or request.method not in ("GET", "HEAD"):
            return frozenset()
        return _field_names(self.query_serializer)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, scope and rate come first
        unknown = sorted(set(request.query_params) - self.accepted_query_params(request))
        if unknown:
            raise ValidationFailed(
                f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}.",
                details=[{"field": name, "message": "Unknown query parameter."} for name in unknown],
            )

    def query(self, request: Request) -> dict[str, Any]:
        """The validated query string (last value wins for a repeated name)."""
        assert self.query_serializer is not None
        return validated(self.query_serializer, request.query_params.dict())
