"""Lifecycle actions tell the subject: the matching message is queued with the action, in its language,
carrying what the law requires, and sent by the mailer; the action never depends on the mail."""

from datetime import UTC, datetime

import pytest

from tests.correspondence.conftest import act, messages_of

pytestmark = pytest.mark.django_db


def _now() -> str:
    return datetime.now(UTC).isoformat()


def test_an_acknowledgement_queues_a_message_in_the_same_action_and_the_mailer_sends_it(
    officer, make_request, send_mail
):
    request = make_request()

    response = act(officer, request["id"], "acknowledgements")

    assert response.status_code == 202
    [message] = messages_of(officer, request["id"])
    assert message["kind"] == "ACKNOWLEDGEMENT"
    assert message["status"] == "QUEUED"
    assert message["toMasked"] == "j\u2022\u2022\u2022e@example.org"
    assert message["templateId"] == "builtin:uk-gdpr:ACKNOWLEDGEMENT:en"
    timeline = officer.get(f"/v1/requests/{request['id']}/timeline").json()["data"]["entries"]
    assert timeline[-1]["data"]["letter"]["id"] == message["id"]

    [sent] = send_mail()

    assert sent.to == ["jane@example.org"]
    assert sent.extra_headers["Message-ID"] == f"<{message['id']}@dsar.invalid>"
    assert "30 April 2026" in sent.body  # the due date, written out
    [message] = messages_of(officer, request["id"])
    assert message["status"] == "SENT" and message["sentAt"]
    actions = [
        e["action"] for e in officer.get(f"/v1/requests/{request['id']}/timeline").json()["data"]["entries"]
    ]
    assert actions[-1] == "message.sent"


def test_notify_false_sends_nothing_and_the_orgs_setting_is_the_default(officer, make_request, org):
    request = make_request()
    act(officer, request["id"], "acknowledgements", {"notify": False})
    assert messages_of(officer, request["id"]) == []

    org.notify_subject = False
    org.save()
    other = make_request()
    act(officer, other["id"], "acknowledgements")
    assert messages_of(officer, other["id"]) == []
    third = make_request()
    act(officer, third["id"], "acknowledgements", {"notify": True})
    assert len(messages_of(officer, third["id"])) == 1


def test_a_gb_refusal_gives_reasons_the_regulator_and_the_courts_in_english_and_french(
    officer, make_request, send_mail
):
    english, french = make_request(), make_request()

    assert act(officer, english["id"], "refusals", {"reason": "Manifestly unfounded."}).status_code == 202
    assert (
        act(
            officer,
            french["id"],
            "refusals",
            {"reason": "Demande manifestement infondée.", "message": {"locale": "fr-CA"}},
        ).status_code
        == 202
    )
    sent = {m.extra_headers["Content-Language"]: m for m in send_mail()}

    assert "Our reasons: Manifestly unfounded." in sent["en"].body
    assert "Information Commissioner's Office (ICO)" in sent["en"].body
    assert "judicial remedy" in sent["en"].body and "Art 79" in sent["en"].body
    # fr-CA falls back to fr, the built-in second language.
    assert "Motifs : Demande manifestement infondée." in sent["fr"].body
    assert "introduire une réclamation auprès de : Information Commissioner's Office (ICO)" in sent["fr"].body
    assert "recours juridictionnel effectif" in sent["fr"].body
    [message] = messages_of(officer, french["id"])
    assert message["locale"] == "fr"
    assert message["legalChecks"] == [
        {"rule": "uk-gdpr.REFUSAL.reasons", "ok": True},
        {"rule": "uk-gdpr.REFUSAL.regulator", "ok": True},
        {"rule": "uk-gdpr.REFUSAL.judicialRemedy", "ok": True},
    ]


def test_a_locale_without_a_template_falls_back_to_the_orgs_default_then_english(officer, make_request, org):
    request = make_request()
    act(officer, request["id"], "acknowledgements", {"message": {"locale": "de-AT"}})
    assert messages_of(officer, request["id"])[0]["locale"] == "en"

    org.default_locale = "fr"
    org.save()
    other = make_request()
    act(officer, other["id"], "acknowledgements", {"message": {"locale": "de"}})
    assert messages_of(officer, other["id"])[0]["locale"] == "fr"


@pytest.mark.parametrize("locale", ["xx-INVALID", "english", "12"])
def test_a_bad_locale_is_a_400_and_nothing_happens(officer, make_request, locale):
    request = make_request()
    response = act(officer, request["id"], "acknowledgements", {"message": {"locale": locale}})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "message.locale"
    assert officer.get(f"/v1/requests/{request['id']}").json()["data"]["request"]["status"] == "RECEIVED"


def test_an_extension_gives_its_reasons_and_the_new_due_date(officer, make_request, send_mail):
    request = make_request()
    response = act(
        officer,
        request["id"],
        "extensions",
        {
            "reason": "Several systems to search.",
            "message": {"extraText": "Sorry."},
            "occurredAt": "2026-04-10T10:00:00Z",
        },
    )
    assert response.status_code == 202, response.content
    [sent] = send_mail()
    assert "Why we need more time: Several systems to search." in sent.body
    assert "You will have our answer by 30 June 2026." in sent.body
    assert "Sorry." in sent.body


def test_a_ccpa_acknowledgement_describes_verification_and_when_to_expect_the_answer(
    officer, make_request, send_mail
):
    request = make_request(jurisdiction="US-CA")
    act(officer, request["id"], "acknowledgements")
    [sent] = send_mail()
    assert "How we verify your identity:" in sent.body
    assert "You can expect our answer by 15 May 2026." in sent.body


def test_a_virginia_refusal_says_how_and_by_when_to_appeal(officer, make_request, send_mail, org):
    request = make_request(jurisdiction="US-VA")
    act(officer, request["id"], "refusals", {"reason": "We hold no data about you."})
    [sent] = send_mail()
    assert "Our reasons: We hold no data about you." in sent.body
    assert "You may appeal this decision." in sent.body and request["id"] in sent.body
    assert "Please appeal by" in sent.body
    [message] = messages_of(officer, request["id"])
    assert {c["rule"]: c["ok"] for c in message["legalChecks"]} == {
        "vcdpa.REFUSAL.reasons": True,
        "vcdpa.REFUSAL.appealInstructions": True,
        "vcdpa.REFUSAL.appealDeadline": True,
    }


def test_clarification_closure_and_appeal_decision_each_send_their_message(officer, make_request, send_mail):
    request = make_request(jurisdiction="US-VA")
    act(officer, request["id"], "clarifications/request", {"message": "Which account do you mean?"})
    act(officer, request["id"], "clarifications/receive")
    act(officer, request["id"], "closures", {"outcome": "FULFILLED"})
    officer.post(f"/v1/requests/{request['id']}/appeals", {"receivedAt": _now()})
    act(officer, request["id"], "appeals/decision", {"outcome": "UPHELD", "message": "We searched again."})

    kinds = [m["kind"] for m in messages_of(officer, request["id"])]

    assert kinds == ["CLARIFICATION", "CLOSURE", "APPEAL_DECISION"]
    bodies = [m.body for m in send_mail()]
    assert "Which account do you mean?" in bodies[0]
    assert "we have done what you asked" in bodies[1]
    assert "our decision stands" in bodies[2] and "Our reasons: We searched again." in bodies[2]


def test_an_appeal_decision_under_virginia_without_reasons_is_refused_when_the_subject_is_told(
    officer, make_request
):
    request = make_request(jurisdiction="US-VA")
    act(officer, request["id"], "closures", {"outcome": "FULFILLED", "notify": False})
    officer.post(f"/v1/requests/{request['id']}/appeals", {"receivedAt": _now()})

    response = act(officer, request["id"], "appeals/decision", {"outcome": "UPHELD"})

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "message"
    assert "vcdpa.APPEAL_DECISION.reasons" in response.json()["error"]["details"][0]["message"]
    assert (
        act(officer, request["id"], "appeals/decision", {"outcome": "UPHELD", "notify": False}).status_code
        == 202
    )


def test_officer_text_is_escaped_in_the_html_part(officer, make_request, send_mail):
    request = make_request()
    act(officer, request["id"], "refusals", {"reason": "<script>alert(1)</script> & more"})
    [sent] = send_mail()
    html, _mime = sent.alternatives[0]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "<script>alert(1)</script> & more" in sent.body  # the text part is plain text


def test_a_request_without_an_email_address_records_the_message_as_suppressed(
    officer, make_request, send_mail
):
    request = make_request(contact="+44 20 7946 0000", requestor={"type": "DATA_SUBJECT", "name": "Jane"})
    response = act(officer, request["id"], "acknowledgements")
    assert response.status_code == 202
    [message] = messages_of(officer, request["id"])
    assert message["status"] == "SUPPRESSED"
    assert message["statusReason"] == "The request has no e-mail address to write to."
    assert send_mail() == []


def test_a_template_id_of_another_kind_is_refused(officer, make_request):
    request = make_request()
    response = act(
        officer, request["id"], "acknowledgements", {"message": {"templateId": "builtin:uk-gdpr:REFUSAL:en"}}
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "message.templateId"
    unknown = act(officer, request["id"], "acknowledgements", {"message": {"templateId": "mtp_NOPE"}})
    assert unknown.status_code == 400


def test_the_message_string_form_still_works_and_the_object_form_gives_the_words(officer, make_request):
    request = make_request(jurisdiction="US-CA")
    response = act(
        officer, request["id"], "refusals", {"message": {"extraText": "Not a consumer.", "locale": "en"}}
    )
    assert response.status_code == 202
    assert response.json()["data"]["request"]["outcome"]["message"] == "Not a consumer."
    assert "Our reasons: Not a consumer." in messages_of(officer, request["id"])[0]["bodyText"]


def test_messages_are_listed_by_cursor_pages_for_intake_keys(officer, intake_clerk, make_request):
    request = make_request()
    for _ in range(3):
        officer.post(f"/v1/requests/{request['id']}/messages", {"subject": "Hello", "bodyText": "A note."})
    first = intake_clerk.get(f"/v1/requests/{request['id']}/messages?limit=2").json()["data"]
    assert len(first["messages"]) == 2
    second = intake_clerk.get(
        f"/v1/requests/{request['id']}/messages?limit=2&cursor={first['nextCursor']}"
    ).json()["data"]
    assert len(second["messages"]) == 1 and "nextCursor" not in second
    assert intake_clerk.get(f"/v1/requests/{request['id']}/messages?cursor=bogus").status_code == 400


def test_another_orgs_request_messages_are_404(other_org_client, make_request):
    request = make_request()
    assert other_org_client.get(f"/v1/requests/{request['id']}/messages").status_code == 404
    assert (
        other_org_client.post(
            f"/v1/requests/{request['id']}/messages", {"subject": "x", "bodyText": "y"}
        ).status_code
        == 404
    )


def test_a_custom_message_is_a_lifecycle_answer_and_intake_keys_cannot_send_one(
    officer, intake_clerk, make_request, send_mail
):
    request = make_request()
    denied = intake_clerk.post(f"/v1/requests/{request['id']}/messages", {"subject": "Hi", "bodyText": "x"})
    assert denied.status_code == 403

    response = officer.post(
        f"/v1/requests/{request['id']}/messages",
        {"subject": "About your request\r\nBcc: evil@example.com", "bodyText": "We are <b>on it</b>."},
    )

    assert response.status_code == 202
    data = response.json()["data"]
    assert data["transition"]["action"] == "message.send"
    assert data["message"]["kind"] == "CUSTOM"
    [sent] = send_mail()
    assert sent.subject == "About your request Bcc: evil@example.com"
    assert "We are <b>on it</b>." in sent.body
    assert "We are &lt;b&gt;on it&lt;/b&gt;." in sent.alternatives[0][0]


def test_a_message_can_be_sent_again_but_not_one_that_carried_a_secret(officer, make_request, send_mail):
    request = make_request()
    act(officer, request["id"], "acknowledgements")
    [original] = messages_of(officer, request["id"])
    response = officer.post(f"/v1/requests/{request['id']}/messages/{original['id']}/resend")
    assert response.status_code == 202
    copy = response.json()["data"]["message"]
    assert copy["resendOf"] == original["id"] and copy["status"] == "QUEUED"
    assert copy["bodyText"] == original["bodyText"]
    assert len(send_mail()) == 2
    missing = officer.post(f"/v1/requests/{request['id']}/messages/msg_NOPE/resend")
    assert missing.status_code == 404


def test_messages_are_part_of_the_subjects_export_in_the_dsar_core_substrate(officer, make_request, org):
    import json

    from tests.conftest import _client
    from tests.exports.conftest import create_job, open_bundle, run_job

    request = make_request()
    act(officer, request["id"], "acknowledgements")
    exporter = _client(org, ["export"])
    job = create_job(exporter, scope={"dataSubjectId": "jane@example.org", "substrates": ["dsar_core"]})
    run_job(exporter, job["id"])
    content = b"".join(exporter.get(f"/v1/compliance/dsar/{job['id']}/download").streaming_content)
    with open_bundle(content) as bundle:
        names = [n for n in bundle.namelist() if n.startswith("data/dsar_core/messages")]
        raw = bundle.read(names[0])
    rows = json.loads(raw)
    [row] = rows if isinstance(rows, list) else rows["records"]
    assert row["kind"] == "ACKNOWLEDGEMENT" and row["requestId"] == request["id"]
    assert row["toMasked"] == "j\u2022\u2022\u2022e@example.org"
    assert "to_address" not in row and "jane@example.org" not in json.dumps(row)
