"""Admin URLs of the request pages, shared by the admin tests."""

from __future__ import annotations

def change_url(dsr) -> str:
    return f"/admin/requests_app/datasubjectrequest/{dsr.pk}/change/"


def act_url(dsr, action: str) -> str:
    return f"/admin/requests_app/datasubjectrequest/{dsr.pk}/act/{action}/"


def replay_url(dsr, event_id: str) -> str:
    return f"/admin/requests_app/datasubjectrequest/{dsr.pk}/notifications/{event_id}/replay/"


QUEUE = "/admin/requests_app/datasubjectrequest/"
