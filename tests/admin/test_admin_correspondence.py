"""The correspondence pages: the template editor (versions, sandbox and legal refusals, preview) and, on the
request page, the messages to the subject with "Send again" and "Write to the subject"."""

from __future__ import annotations

import pytest
from admin_paths import act_url, change_url
from django.contrib.admin.utils import quote
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from correspondence import services as correspondence_services
from correspondence.builtin import BUILTINS
from correspondence.models import Message, MessageTemplate
from requests_app import services

pytestmark = pytest.mark.django_db

TEMPLATES = "/admin/correspondence/messagetemplate/"
EDITOR = TEMPLATES + "add/"
PREVIEW = TEMPLATES + "preview/"
MESSAGES = "/admin/correspondence/message/"

# The request page with its correspondence: as many queries with one message as with twenty.
REQUEST_PAGE_QUERIES = 13


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _refusal_template(**overrides) -> dict[str, str]:
    text = BUILTINS[("REFUSAL", "en")]
    return {
        "kind": "REFUSAL",
        "pack": "uk-gdpr",
        "locale": "en",
        "subject": text.subject,
        "body_text": text.body_text,
        "body_html": "",
        **overrides,
    }


def _resend_url(dsr, message_id: str) -> str:
    return f"{change_url(dsr).removesuffix('change/')}messages/{message_id}/resend/"


def _write_url(dsr) -> str:
    return f"{change_url(dsr).removesuffix('change/')}messages/write/"


def _acknowledged(dsr) -> Message:
    services.request_acknowledge(org=dsr.org, request_id=dsr.pk, actor="test")
    return Message.objects.get(request=dsr, kind="ACKNOWLEDGEMENT")


# --- templates ----------------------------------------------------------------------------------------------


def test_the_editor_refuses_a_tag_outside_the_sandbox_and_writes_nothing(officer_client):
    response = officer_client.post(
        EDITOR, _refusal_template(body_text="{% load static %}Hello {{ reasons }}")
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "body_text" in errors and "load" in errors["body_text"][0]
    assert "load" in response.content.decode() and "errornote" in response.content.decode()
    assert not MessageTemplate.objects.exists()


def test_the_editor_refuses_a_template_missing_a_legal_element(officer_client):
    response = officer_client.post(EDITOR, _refusal_template(body_text="No. {{ orgName }}"))

    assert response.status_code == 200
    assert "body_text" in response.context["form"].errors
    assert "what the law requires" in response.content.decode()
    assert not MessageTemplate.objects.exists()


def test_the_editor_saves_version_1_then_2_and_the_list_shows_the_current_one(officer_client, org):
    first = officer_client.post(EDITOR, _refusal_template())
    assert first.status_code == 302
    v1 = MessageTemplate.objects.get(org=org)
    assert (v1.version, v1.created_by, v1.retired_at) == (1, "user:olivia", None)
    assert any("as version 1" in m for m in _messages(first))

    editor = officer_client.get(EDITOR, {"from": v1.pk})
    assert editor.context["form"].initial["pack"] == "uk-gdpr"
    second = officer_client.post(EDITOR, _refusal_template(subject="Your request {{ requestRef }}"))

    assert second.status_code == 302
    v1.refresh_from_db()
    v2 = MessageTemplate.objects.get(org=org, retired_at__isnull=True)
    assert v2.version == 2 and v1.retired_at is not None
    listing = officer_client.get(TEMPLATES)
    assert [t.pk for t in listing.context["cl"].result_list] == [v2.pk]
    assert [t.pk for t in officer_client.get(TEMPLATES, {"versions": "all"}).context["cl"].result_list] == [
        v2.pk,
        v1.pk,
    ]
    assert "/builtins/" in listing.content.decode()


def test_preview_shows_the_rendered_letter_and_the_legal_checklist(officer_client, org):
    response = officer_client.post(EDITOR, {**_refusal_template(), "_preview": "Preview"})

    assert response.status_code == 200
    assert not MessageTemplate.objects.exists()  # a preview saves nothing
    page = response.content.decode()
    checks = response.context["preview"]["legal_checks"]
    assert checks and all(c["rule"].startswith("uk-gdpr.REFUSAL.") for c in checks)
    assert 'id="dsar-legal-checks"' in page and "✓" in page
    assert "<iframe sandbox=" in page
    assert 'id="dsar-variables"' in page and "regulatorName" in page
    assert 'id="dsar-required-elements"' in page


def test_a_saved_template_previews_against_a_real_request(officer_client, org, new_request):
    dsr = new_request(jurisdiction="GB")
    template = correspondence_services.template_create(org=org, actor="test", **_refusal_template())

    response = officer_client.get(PREVIEW, {"template": template.pk, "request": dsr.pk})
    unknown = officer_client.get(PREVIEW, {"template": template.pk, "request": "req_nope"})

    assert response.status_code == 200
    assert dsr.pk in response.context["preview"]["body_text"]
    assert unknown.status_code == 200 and unknown.context["error"]


def test_the_builtin_templates_are_listed(officer_client):
    response = officer_client.get(TEMPLATES + "builtins/")

    assert response.status_code == 200
    assert any(t["id"] == "builtin:*:REFUSAL:en" for t in response.context["builtins"])


def test_another_orgs_template_and_message_are_not_reachable(officer_client, other_org, new_request):
    theirs = correspondence_services.template_create(org=other_org, actor="test", **_refusal_template())
    their_request = new_request(request_org=other_org)
    their_message = _acknowledged(their_request)

    assert officer_client.get(f"{TEMPLATES}{quote(theirs.pk)}/change/").status_code == 404
    assert officer_client.get(PREVIEW, {"template": theirs.pk}).status_code == 404
    assert officer_client.get(EDITOR, {"from": theirs.pk}).status_code == 404
    assert officer_client.get(f"{MESSAGES}{quote(their_message.pk)}/change/").status_code == 404
    assert officer_client.post(_resend_url(their_request, their_message.pk)).status_code == 404
    assert Message.objects.filter(resend_of=their_message).count() == 0


def test_messages_are_read_only_and_mask_the_secret(officer_client, on_time):
    message = _acknowledged(on_time)

    page = officer_client.get(f"{MESSAGES}{quote(message.pk)}/change/")
    listing = officer_client.get(MESSAGES)

    assert page.status_code == 200 and listing.status_code == 200
    assert not page.context["has_change_permission"] and not page.context["has_delete_permission"]
    assert officer_client.get(MESSAGES + "add/").status_code == 403
    assert "jane@example.org" not in page.content.decode()


# --- the request page ---------------------------------------------------------------------------------------


def test_the_request_page_lists_messages_and_send_again_queues_a_copy(officer_client, on_time):
    message = _acknowledged(on_time)

    page = officer_client.get(change_url(on_time)).content.decode()
    assert 'id="correspondence"' in page and message.pk in page and "<details>" in page
    assert _resend_url(on_time, message.pk) in page

    response = officer_client.post(_resend_url(on_time, message.pk))

    assert response.status_code == 302
    copy = Message.objects.get(resend_of=message)
    assert copy.status == "QUEUED" and copy.actor == "user:olivia"
    assert any("queued" in m for m in _messages(response))


def test_send_again_of_a_message_that_cannot_be_copied_is_an_error_message(officer_client, on_time):
    message = _acknowledged(on_time)
    Message.objects.filter(pk=message.pk).update(status="SUPPRESSED", status_reason="No address.")

    response = officer_client.post(_resend_url(on_time, message.pk))

    assert response.status_code == 302
    assert any(m.startswith("Send again refused: This message was never sent") for m in _messages(response))
    assert not Message.objects.filter(resend_of=message).exists()


def test_write_to_the_subject_queues_a_custom_message(officer_client, on_time):
    response = officer_client.post(
        _write_url(on_time), {"subject": "About your request", "body_text": "We need a week more."}
    )

    assert response.status_code == 302
    custom = Message.objects.get(request=on_time, kind="CUSTOM")
    assert custom.subject == "About your request" and "We need a week more." in custom.body_text
    assert custom.status == "QUEUED"


def test_write_to_the_subject_shows_a_bad_locale_on_the_form(officer_client, on_time):
    response = officer_client.post(
        _write_url(on_time), {"subject": "Hello", "body_text": "Text", "locale": "not a locale"}
    )

    assert response.status_code == 200
    assert "locale" in response.context["form"].errors
    assert not Message.objects.filter(request=on_time, kind="CUSTOM").exists()


def test_an_auditor_sees_the_messages_but_no_buttons_and_cannot_post(auditor_client, on_time):
    message = _acknowledged(on_time)

    page = auditor_client.get(change_url(on_time)).content.decode()

    assert message.pk in page
    assert _resend_url(on_time, message.pk) not in page and _write_url(on_time) not in page
    assert auditor_client.post(_resend_url(on_time, message.pk)).status_code == 403
    assert auditor_client.post(_write_url(on_time), {"subject": "x", "body_text": "y"}).status_code == 403
    assert auditor_client.post(EDITOR, _refusal_template()).status_code == 403
    assert auditor_client.get(TEMPLATES).status_code == 200
    assert not Message.objects.filter(request=on_time, kind="CUSTOM").exists()
    assert not MessageTemplate.objects.exists()


def test_the_request_page_does_not_query_per_message(officer_client, on_time, django_assert_max_num_queries):
    message = _acknowledged(on_time)
    with CaptureQueriesContext(connection) as one:
        assert officer_client.get(change_url(on_time)).status_code == 200
    for _ in range(19):
        correspondence_services.message_resend(
            org=on_time.org, request_id=on_time.pk, message_id=message.pk, actor="test"
        )

    with django_assert_max_num_queries(REQUEST_PAGE_QUERIES), CaptureQueriesContext(connection) as twenty:
        response = officer_client.get(change_url(on_time))

    assert len(response.context["dsar_messages"]) == 20
    assert len(one.captured_queries) == len(twenty.captured_queries) <= REQUEST_PAGE_QUERIES


# --- "Tell the subject" on the action forms -----------------------------------------------------------------


def test_the_refuse_form_with_tell_the_subject_unchecked_queues_nothing(officer_client, new_request):
    told, untold = new_request(), new_request()

    form = officer_client.get(act_url(untold, "refuse")).context["form"]
    assert form.fields["notify"].initial is True  # the org's notify_subject
    quiet = officer_client.post(act_url(untold, "refuse"), {"reason": "EXCESSIVE"})
    loud = officer_client.post(act_url(told, "refuse"), {"reason": "EXCESSIVE", "notify": "on"})

    assert quiet.status_code == 302 and loud.status_code == 302
    untold.refresh_from_db()
    assert untold.status == "REFUSED"
    assert not Message.objects.filter(request=untold).exists()
    assert Message.objects.filter(request=told, kind="REFUSAL").count() == 1


def test_an_action_form_shows_a_bad_locale_as_a_field_error(officer_client, on_time):
    response = officer_client.post(act_url(on_time, "acknowledge"), {"notify": "on", "locale": "zz-!!"})

    assert response.status_code == 200
    assert "locale" in response.context["form"].errors
    on_time.refresh_from_db()
    assert on_time.status == "RECEIVED"


def test_the_acknowledgement_letter_carries_the_extra_text_in_the_language_asked(officer_client, on_time):
    response = officer_client.post(
        act_url(on_time, "acknowledge"),
        {"notify": "on", "locale": "fr", "extra_text": "Merci de votre patience."},
    )

    assert response.status_code == 302
    message = Message.objects.get(request=on_time, kind="ACKNOWLEDGEMENT")
    assert message.locale == "fr"
    assert "Merci de votre patience." in message.body_text
