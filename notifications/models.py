from __future__ import annotations

from django.db import models
from django.db.models import Q

from core.ids import new_id
from core.models import Org


def _event_id() -> str:
    return new_id("evt")


class OutboxEvent(models.Model):
    """An event committed with the change that caused it. Its id is the Standard Webhooks `webhook-id`.

    `body` holds the exact bytes delivered (signed afresh per attempt, never re-rendered), so every retry
    and replay sends an identical payload.
    """

    id = models.CharField(primary_key=True, max_length=40, default=_event_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="events")
    request = models.ForeignKey(
        "requests_app.DataSubjectRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    type = models.CharField(max_length=64)
    body = models.TextField()
    created_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["created_at"], name="outbox_undispatched", condition=Q(dispatched_at__isnull=True)),
            models.Index(fields=["request", "created_at"], name="outbox_by_request"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.type}"
