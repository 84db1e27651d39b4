from __future__ import annotations

from django.db import models

from core.models import Org


class AuthorityStatus(models.TextChoices):
    PENDING = "PENDING"
    VERIFIED = "VERIFIED"
    REJECTED = "REJECTED"


class AuthorityEvidence(models.Model):
    """Evidence that an agent, parent or representative may act for the subject. One row per submission."""

    org = models.ForeignKey(Org, on_delete=models.PROTECT)
    request = models.ForeignKey(
        "requests_app.DataSubjectRequest", on_delete=models.PROTECT, related_name="authority_submissions"
    )
    evidence_artifacts = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=AuthorityStatus.choices, default=AuthorityStatus.PENDING)
    verified_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=200, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        verbose_name = "authority evidence"
        verbose_name_plural = "authority evidence"
        ordering = ["request", "submitted_at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.status}"
