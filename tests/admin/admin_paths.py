"""Admin URLs of the request pages, shared by the admin tests."""

from __future__ import annotations

from django.contrib.admin.utils import quote


def change_url(dsr) -> str:
    return f"/admin/requests_app/datasubjectrequest/{quote(dsr.pk)}/change/"


def act_url(dsr, action: str) -> str:
    return f"/admin/requests_app/datasubjectrequest/{quote(dsr.pk)}/act/{action}/"


def replay_url(dsr, event_id: str) -> str:
    return f"/admin/requests_app/datasubjectrequest/{quote(dsr.pk)}/notifications/{event_id}/replay/"


QUEUE = "/admin/requests_app/datasubjectrequest/"
