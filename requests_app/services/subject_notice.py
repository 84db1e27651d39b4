"""The message an action sends the data subject (acknowledgement, clarification, extension, refusal,
closure, appeal decision): a `notice` for `machinery.request_action`, queued in the action's transaction
by `correspondence.notices.message_queue`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from correspondence.context import ActionValues
from correspondence.notices import Notify, message_queue, message_summary

from ..models import DataSubjectRequest

Notice = Callable[[DataSubjectRequest, datetime], dict[str, Any]]


def subject_notice(kind: str, notify: Notify | None, *, actor: str, values: ActionValues) -> Notice:
    def queue(dsr: DataSubjectRequest, now: datetime) -> dict[str, Any]:
        message = message_queue(dsr=dsr, kind=kind, notify=notify, values=values, actor=actor, now=now)
        return message_summary(message)

    return queue
