"""Every write to a request. Views, admin actions and tasks call these functions; nothing else changes a
request. Each runs in one transaction through `machinery.request_action` (or intake's own), and every
action's "allowed now?" comes from one table, `requests_app.guards.RULES`.
"""

from __future__ import annotations

from ..guards import ACTIONS, allowed_actions, invalid_action, why_not
from .appeals import request_appeal, request_appeal_decide
from .clock_maintenance import request_clock_refresh, request_clock_upgrade, request_deadline_notice
from .intake import CreateResult, request_create
from .lifecycle import (
    request_acknowledge,
    request_clarification_receive,
    request_clarification_request,
    request_close,
    request_extend,
    request_refuse,
    request_requestor_set,
    request_types_set,
    request_verification_receive,
    request_verification_request,
)
from .machinery import CLOCK_SKEW, ActionResult, Change, request_action
from .records import request_record

__all__ = [
    "ACTIONS",
    "CLOCK_SKEW",
    "ActionResult",
    "Change",
    "CreateResult",
    "allowed_actions",
    "invalid_action",
    "request_acknowledge",
    "request_action",
    "request_appeal",
    "request_appeal_decide",
    "request_clarification_receive",
    "request_clarification_request",
    "request_clock_refresh",
    "request_clock_upgrade",
    "request_close",
    "request_create",
    "request_deadline_notice",
    "request_extend",
    "request_record",
    "request_refuse",
    "request_requestor_set",
    "request_types_set",
    "request_verification_receive",
    "request_verification_request",
    "why_not",
]
