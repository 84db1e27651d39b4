"""A staff user reaches their own org's objects only: any other org's id answers 404 on every admin URL."""

from __future__ import annotations

import pytest
from admin_paths import QUEUE, act_url, change_url, replay_url
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.test import Client

from authority.models import AuthorityEvidence
from notifications.models import OutboxEvent
from requests_app.models import DataSubjectRequest, TimelineEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def globex_request(new_request, other_org):
    return new_request(
        request_org=other_org,
        contact="secret@globex.example",
        authority={
            "evidence_artifacts": [{"kind": "POA", "uri": "s3://globex/poa.pdf"}],
            "status": "PENDING",
        },
    )


def _globex_urls(dsr) -> list[str]:
    event = OutboxEvent.objects.filter(request=dsr).first()
    evidence = AuthorityEvidence.objects.get(request=dsr)
    base = f"/admin/requests_app/datasubjectrequest/{quote(dsr.pk)}"
    return [
        change_url(dsr),
        f"{base}/history/",
        f"{base}/delete/",
        act_url(dsr, "extend"),
        act_url(dsr, "acknowledge"),
        replay_url(dsr, event.pk),
        f"/admin/authority/authorityevidence/{evidence.pk}/change/",
        f"/admin/authority/authorityevidence/{evidence.pk}/history/",
        f"/admin/core/org/{quote(dsr.org_id)}/change/",
    ]


def test_it_answers_404_for_another_orgs_objects_on_every_admin_url(officer_client, globex_request):
    for url in _globex_urls(globex_request):
        assert officer_client.get(url).status_code == 404, url


def test_it_answers_404_to_posts_on_another_orgs_request_and_writes_nothing(officer_client, globex_request):
    before = TimelineEntry.objects.filter(request=globex_request).count()
    event = OutboxEvent.objects.filter(request=globex_request).first()

    for url, body in [
        (act_url(globex_request, "extend"), {"reason": "complex"}),
        (act_url(globex_request, "refuse"), {"reason": "EXCESSIVE"}),
        (replay_url(globex_request, event.pk), {}),
        (change_url(globex_request), {}),
    ]:
        assert officer_client.post(url, body).status_code == 404, url

    assert TimelineEntry.objects.filter(request=globex_request).count() == before
    globex_request.refresh_from_db()
    assert globex_request.status == "RECEIVED"


def test_it_lists_only_the_users_own_org_in_the_queue_and_search(officer_client, on_time, globex_request):
    page = officer_client.get(QUEUE).content.decode()
    assert on_time.pk in page
    assert globex_request.pk not in page

    found = officer_client.get(QUEUE, {"q": "secret@globex"}).content.decode()
    assert globex_request.pk not in found
    assert "0 results" in found


def test_it_hides_another_orgs_jurisdictions_from_the_filter(officer_client, on_time, new_request, other_org):
    new_request(request_org=other_org, jurisdiction="BR")

    page = officer_client.get(QUEUE).content.decode()

    assert "?jurisdiction=US-CA" in page
    assert "?jurisdiction=BR" not in page


def test_it_counts_only_the_users_own_org_on_the_dashboard(officer_client, on_time, globex_request):
    response = officer_client.get("/admin/")

    dashboard = response.context["dashboard"]
    assert [cell["count"] for cell in dashboard["totals"]] == [1, 0, 0, 1]
    assert [row["label"] for row in dashboard["by_jurisdiction"]] == ["US-CA"]


def test_it_shows_nothing_to_a_staff_user_without_an_org(on_time):
    user = get_user_model().objects.create_user("drifter", password="x", is_staff=True)
    user.user_permissions.add(*_view_permission())
    client = Client()
    client.force_login(user)

    assert on_time.pk not in client.get(QUEUE).content.decode()
    assert client.get(change_url(on_time)).status_code == 404


def test_it_shows_every_org_to_a_superuser_without_an_org(on_time, globex_request):
    admin = get_user_model().objects.create_superuser("root", password="x")
    client = Client()
    client.force_login(admin)

    page = client.get(QUEUE).content.decode()

    assert on_time.pk in page and globex_request.pk in page
    assert client.get(change_url(globex_request)).status_code == 200


def test_another_orgs_officer_sees_their_own_request(other_officer_client, globex_request, on_time):
    assert other_officer_client.get(change_url(globex_request)).status_code == 200
    assert other_officer_client.get(change_url(on_time)).status_code == 404


def _view_permission():
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(codename="view_datasubjectrequest")


def test_the_request_queryset_is_the_only_way_in(officer_client, on_time, globex_request):
    # Belt and braces: an unknown id and another org's id are indistinguishable.
    unknown = officer_client.get("/admin/requests_app/datasubjectrequest/req_nope/change/")
    theirs = officer_client.get(change_url(globex_request))
    assert unknown.status_code == theirs.status_code == 404
    assert DataSubjectRequest.objects.count() == 2


def test_staff_groups_cannot_open_another_orgs_notifications_in_the_admin(
    officer_client, auditor_client, globex_request
):
    # The notification admin is org-scoped like the rest: both groups may open it, and see only their own
    # org's events there; another org's answer 404 like ids that do not exist.
    event = OutboxEvent.objects.filter(request=globex_request).first()
    for client in (officer_client, auditor_client):
        listing = client.get("/admin/notifications/outboxevent/")
        assert listing.status_code == 200
        assert event.pk not in listing.content.decode()
        assert client.get(f"/admin/notifications/outboxevent/{event.pk}/change/").status_code == 404


def test_migrate_gives_existing_staff_groups_the_permissions_of_this_release(officer_client):
    from django.contrib.auth.models import Group, Permission
    from django.core.management import call_command

    from core.staff import OFFICER

    group = Group.objects.get(name=OFFICER)
    group.permissions.remove(*Permission.objects.filter(content_type__app_label="notifications"))
    call_command("migrate", verbosity=0)
    granted = set(
        group.permissions.filter(content_type__app_label="notifications").values_list("codename", flat=True)
    )
    assert {"view_webhookendpoint", "change_webhookendpoint", "view_replay"} <= granted
