"""The workspace is the product: its name in every header, `/` leads to it, and a refusal or a missing page
is one of its pages — while the API keeps answering in its JSON envelope."""

from __future__ import annotations

import json

import pytest
from admin_paths import QUEUE, act_url, change_url
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_root_leads_to_the_workspace(officer_client):
    response = officer_client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert "Open requests" in officer_client.get("/", follow=True).content.decode()


def test_the_root_leads_a_stranger_to_the_sign_in_page():
    response = Client().get("/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/admin/login/")
    assert "DSAR Core" in response.content.decode()


@pytest.mark.parametrize("path", ["/admin/", QUEUE, "/admin/password_change/"])
def test_every_page_says_dsar_core_not_the_framework(officer_client, on_time, path):
    page = officer_client.get(path).content.decode()

    assert '<div id="site-name"><a href="/admin/">' in page
    assert "DSAR Core</a></div>" in page
    assert "| DSAR Core</title>" in page
    assert "Django administration" not in page and "Django site admin" not in page
    assert "View site" not in page  # it would only lead back here


def test_the_sign_in_page_says_dsar_core():
    page = Client().get("/admin/login/").content.decode()

    assert "DSAR Core" in page and "Django administration" not in page


def test_the_request_page_and_the_queue_have_product_titles(officer_client, on_time):
    assert "<h1>Request queue</h1>" in officer_client.get(QUEUE).content.decode()
    assert "<h1>Select data subject request" not in officer_client.get(QUEUE).content.decode()
    page = officer_client.get(change_url(on_time)).content.decode()
    assert '<h1 class="dsar-subject-heading">Jane Doe</h1>' in page
    assert "View data subject request" not in page


def test_an_auditor_is_refused_on_a_styled_workspace_page(auditor_client, on_time):
    response = auditor_client.get(act_url(on_time, "extend"))

    assert response.status_code == 403
    page = response.content.decode()
    assert 'id="dsar-error" data-status="403"' in page
    assert "Auditors can view requests but not act on them." in page
    assert "Nothing was changed." in page
    assert "Back to the workspace" in page
    assert "DSAR Core</a></div>" in page
    assert "Signed in as <strong>aldo</strong>" in page


@pytest.mark.parametrize("path", ["/nope", "/admin/requests_app/datasubjectrequest/req_nope/change/"])
def test_a_missing_page_is_a_styled_workspace_page(officer_client, path):
    response = officer_client.get(path)

    assert response.status_code == 404
    page = response.content.decode()
    assert 'id="dsar-error" data-status="404"' in page
    assert "There is nothing here" in page
    assert "DSAR Core</a></div>" in page


def test_another_orgs_request_is_the_same_styled_404(officer_client, new_request, other_org):
    theirs = new_request(request_org=other_org)

    response = officer_client.get(change_url(theirs))

    assert response.status_code == 404
    assert 'id="dsar-error" data-status="404"' in response.content.decode()


@pytest.mark.parametrize("path", ["/v1/nope", "/v1/requests/req_nope"])
def test_the_api_still_answers_missing_paths_in_its_envelope(officer, path):
    response = officer.get(path)

    assert response.status_code in (401, 404)
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert body["ok"] is False and "dsar-error" not in response.content.decode()
