"""DSAR Core's legal clock: pure-Python deadline rules, with no Django in sight.

The Django layer maps its rows to these values in one place and calls `compute` with an explicit
`now`; everything here is deterministic and side-effect free.
"""

from __future__ import annotations

from clocks.compute import check_extension, compute, extension_available
from clocks.packs import UnknownPackVersion, check_in_force, get_pack, jurisdiction_codes, list_packs
from clocks.policy import (
    MESSAGE_KINDS,
    NOTICE_ELEMENTS,
    Notice,
    PeriodRule,
    PolicyPack,
    Regulator,
    VerificationPolicy,
)
from clocks.result import ClockResult
from clocks.types import (
    REQUEST_TYPES,
    Adjustment,
    ClockEvent,
    ClockState,
    Deadline,
    DeadlineKind,
    Effect,
    EventKind,
    ExtensionApplied,
    ExtensionCheck,
    LawNotInForce,
    Pause,
    PauseReason,
    Period,
    Segment,
    SegmentKind,
    TypePeriod,
    Unit,
    UnknownJurisdiction,
)

__all__ = [
    "MESSAGE_KINDS",
    "NOTICE_ELEMENTS",
    "REQUEST_TYPES",
    "Adjustment",
    "ClockEvent",
    "ClockResult",
    "ClockState",
    "Deadline",
    "DeadlineKind",
    "Effect",
    "EventKind",
    "ExtensionApplied",
    "ExtensionCheck",
    "LawNotInForce",
    "Notice",
    "Pause",
    "PauseReason",
    "Period",
    "PeriodRule",
    "PolicyPack",
    "Regulator",
    "Segment",
    "SegmentKind",
    "TypePeriod",
    "Unit",
    "UnknownJurisdiction",
    "UnknownPackVersion",
    "VerificationPolicy",
    "check_extension",
    "check_in_force",
    "compute",
    "extension_available",
    "get_pack",
    "jurisdiction_codes",
    "list_packs",
]
