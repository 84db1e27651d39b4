"""The admin home: open requests on time, due soon or overdue, by status and jurisdiction, each linked to
the queue."""

from __future__ import annotations

import pytest
from admin_paths import QUEUE

pytestmark = pytest.mark.django_db


def _cells(row) -> dict[str, dict]:
    return {cell["bucket"]: cell for cell in row["cells"]}


def test_it_counts_open_requests_by_status_and_bucket(officer_client, on_time, due_soon, overdue):
    from requests_app import services

    services.request_acknowledge(org=on_time.org, request_id=on_time.pk, actor="test")

    dashboard = officer_client.get("/admin/").context["dashboard"]

    rows = {row["key"]: _cells(row) for row in dashboard["by_status"]}
    assert list(rows) == ["RECEIVED", "ACKNOWLEDGED"]
    assert {k: v["count"] for k, v in rows["RECEIVED"].items()} == {
        "on_time": 0,
        "due_soon": 1,
        "overdue": 1,
        "total": 2,
    }
    assert rows["ACKNOWLEDGED"]["on_time"]["count"] == 1
    assert [cell["count"] for cell in dashboard["totals"]] == [1, 1, 1, 3]


def test_each_number_links_to_a_queue_showing_exactly_those_requests(
    officer_client, on_time, due_soon, overdue, new_request
):
    new_request(jurisdiction="GB", days_ago=2)
    dashboard = officer_client.get("/admin/").context["dashboard"]

    cells = [cell for row in dashboard["by_status"] + dashboard["by_jurisdiction"] for cell in row["cells"]]
    cells += dashboard["totals"]
    for cell in cells:
        assert cell["url"].startswith(QUEUE + "?")
        shown = officer_client.get(cell["url"]).context["cl"].result_count
        assert shown == cell["count"], cell["url"]


def test_it_keeps_the_app_list_below_the_dashboard(officer_client, on_time):
    page = officer_client.get("/admin/").content.decode()

    assert page.index('id="dsar-dashboard"') < page.index("app-requests_app")


def test_it_leaves_the_dashboard_off_the_app_index(officer_client, on_time):
    page = officer_client.get("/admin/requests_app/").content.decode()

    assert 'id="dsar-dashboard"' not in page


def test_it_counts_acknowledgements_overdue_and_due_within_two_days(officer_client, ack_cast):
    dashboard = officer_client.get("/admin/").context["dashboard"]

    cells = {cell["bucket"]: cell for cell in dashboard["acknowledgements"]}
    assert {bucket: cell["count"] for bucket, cell in cells.items()} == {"ack_overdue": 1, "ack_due_soon": 1}
    names = {dsr.pk: name for name, dsr in ack_cast.items()}
    for bucket, expected in (("ack_overdue", ["late"]), ("ack_due_soon", ["soon"])):
        shown = officer_client.get(cells[bucket]["url"]).context["cl"].result_list
        assert [names[dsr.pk] for dsr in shown] == expected
    page = officer_client.get("/admin/").content.decode()
    assert 'id="dsar-acknowledgements"' in page and "Due within 2 days" in page
