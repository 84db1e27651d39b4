"""A bare DRF ModelViewSet create of a similar row (no services, clock, timeline or outbox): the baseline."""

from __future__ import annotations

from datetime import date, datetime

from django.urls import include, path
from django.utils import timezone
from rest_framework import serializers, viewsets
from rest_framework.routers import SimpleRouter

from requests_app.models import DataSubjectRequest


class BareRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataSubjectRequest
        fields = ["id", "jurisdiction", "channel", "raw_text", "intake_received_at", "contact", "status"]
        read_only_fields = ["id", "status"]


class BareRequestViewSet(viewsets.ModelViewSet):
    serializer_class = BareRequestSerializer
    required_scopes = ("intake",)

    def get_queryset(self):
        return DataSubjectRequest.objects.filter(org=self.request.user.org)

    def perform_create(self, serializer):
        now = timezone.now()
        serializer.save(
            org=self.request.user.org,
            received_at=now,
            created_at=now,
            updated_at=now,
            clock_pack_id="uk-gdpr",
            clock_pack_version="2026.1",
            clock_timezone="Europe/London",
            clock_started_at=now,
            clock_base_due_date=date(2026, 1, 1),
            clock_due_date=date(2026, 1, 1),
            clock_due_at=datetime(2026, 1, 1, tzinfo=now.tzinfo),
            clock_computed_at=now,
        )


router = SimpleRouter(trailing_slash=False)
router.register("bare/requests", BareRequestViewSet, basename="bare")

urlpatterns = [path("", include("dsar_project.urls")), path("", include(router.urls))]
