"""Substrates: the built-in `dsar_core`, and the sources an org registers (admin, `substrate_register`).

Registration parses the mapping (`exports.mapping`) and checks it against the live source before saving:
a mapping that names a table or column the source does not have is refused, saying which.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.api import ValidationFailed
from core.models import Org

from ..mapping import MappingError, mapping_to_json, parse_mapping
from ..models import Substrate
from ..sources import open_source
from ..sources.dsar_core import BUILTIN_KEY, builtin_mapping
from ..types import Mapping, SourceError


@dataclass(frozen=True)
class Registered:
    substrate: Substrate
    created: bool


def substrate_keys_enabled(org: Org) -> set[str]:
    return {BUILTIN_KEY, *Substrate.objects.filter(org=org, enabled=True).values_list("key", flat=True)}


def mapping_parse(data: Any) -> Mapping:
    """The mapping, or 400 `validation_error` listing every problem with its dotted path."""
    try:
        return parse_mapping(data, file_roots=settings.DSAR_EXPORT_FILE_ROOTS)
    except MappingError as error:
        raise ValidationFailed(
            "The mapping is not valid.",
            details=[{"field": path, "message": message} for path, message in error.problems],
        ) from None


def source_check(mapping: Mapping, *, org_id: str) -> None:
    """Connect and check every declared table and column; SourceError says what is wrong."""
    with open_source(
        mapping,
        file_roots=settings.DSAR_EXPORT_FILE_ROOTS,
        statement_timeout=settings.DSAR_EXPORT_STATEMENT_TIMEOUT,
        org_id=org_id,
    ) as source:
        source.check()


def substrate_register(
    *, org: Org, data: Any, enabled: bool = True, check: bool = True, now: datetime | None = None
) -> Registered:
    """Create or update (same key) a substrate from its mapping JSON, after checking it live."""
    now = now or timezone.now()
    mapping = mapping_parse(data)
    if check:
        try:
            source_check(mapping, org_id=org.pk)
        except SourceError as error:
            raise ValidationFailed(
                f"The source does not match the mapping: {error.message}",
                details=[{"field": "mapping", "message": f"{error.kind}: {error.message}"}],
            ) from None
    with transaction.atomic():
        substrate, created = Substrate.objects.select_for_update().get_or_create(
            org=org,
            key=mapping.key,
            defaults={
                "kind": mapping.kind,
                "mapping": mapping_to_json(mapping),
                "description": mapping.description,
                "enabled": enabled,
                "created_at": now,
                "updated_at": now,
            },
        )
        if not created:
            substrate.enabled = enabled
            substrate.kind = mapping.kind
            substrate.mapping = mapping_to_json(mapping)
            substrate.description = mapping.description
            substrate.updated_at = now
        substrate.checked_at = now if check else None
        substrate.check_error = ""
        substrate.save()
    return Registered(substrate=substrate, created=created)


def substrate_check(*, substrate: Substrate, now: datetime | None = None) -> str:
    """The admin's "check connection": '' when the source matches its mapping, else what is wrong.
    The result is stored on the substrate."""
    now = now or timezone.now()
    try:
        source_check(substrate_mapping(substrate), org_id=substrate.org_id)
        problem = ""
    except SourceError as error:
        problem = f"{error.kind}: {error.message}"
    except ValidationFailed as error:
        problem = "; ".join(f"{d['field']}: {d['message']}" for d in error.details) or error.message
    Substrate.objects.filter(pk=substrate.pk).update(checked_at=now, check_error=problem)
    substrate.checked_at, substrate.check_error = now, problem
    return problem


def substrate_mapping(substrate: Substrate) -> Mapping:
    return mapping_parse(substrate.mapping)


def mappings_for(org: Org, keys: list[str] | None) -> list[Mapping]:
    """The mappings a job reads: the named enabled substrates (all of them when none are named), the
    built-in first, then by key."""
    rows = Substrate.objects.filter(org=org, enabled=True).order_by("key")
    if keys:
        rows = rows.filter(key__in=keys)
    mappings = []
    for substrate in rows:
        try:
            mappings.append(substrate_mapping(substrate))
        except ValidationFailed as error:
            # Stored when valid, invalid now (e.g. its root left DSAR_EXPORT_FILE_ROOTS): the job fails
            # naming the substrate, like any source that cannot be read.
            first = error.details[0] if error.details else {"field": "mapping", "message": error.message}
            raise SourceError(
                "not_configured",
                f"substrate {substrate.key}: its mapping is no longer valid "
                f"({first['field']}: {first['message']})",
            ) from None
    if not keys or BUILTIN_KEY in keys:
        mappings.insert(0, builtin_mapping())
    return mappings
