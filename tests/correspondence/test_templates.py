"""Templates as data: what the sandbox refuses at save, what the law requires of each, versions, the
listing with the built-in ones, and the preview with its legal checklist."""

import pytest

import clocks
from correspondence.builtin import BUILTINS
from correspondence.engine import check_template
from correspondence.notices import legal_checks

pytestmark = pytest.mark.django_db

GOOD_REFUSAL = {
    "kind": "REFUSAL",
    "pack": "uk-gdpr",
    "locale": "cy",
    "subject": "Ein penderfyniad ar {{ requestRef }}",
    "bodyText": "Rhesymau: {{ reasons }}\n{{ regulatorName }} {{ regulatorUrl }}\n{{ judicialRemedy }}",
}


def create(client, **overrides):
    return client.post("/v1/message-templates", {**GOOD_REFUSAL, **overrides})


@pytest.mark.parametrize(
    ("field", "source"),
    [
        ("bodyText", "{% load static %}{{ reasons }}"),
        ("bodyText", '{% include "/etc/passwd" %}{{ reasons }}'),
        ("bodyText", "{% extends 'admin/base.html' %}"),
        ("bodyText", "{{ request.requestor.email }} {{ reasons }}"),
        ("bodyText", "{{ reasons.__class__ }}"),
        ("bodyText", "{{ reasons|safe }}"),
        ("bodyText", "{% for x in reasons %}{{ x }}{% endfor %}"),
        ("bodyText", "{{ settings }}"),
        ("bodyHtml", "<p>{% debug %}</p>"),
        ("subject", "Hello\r\nBcc: evil@example.com"),
    ],
)
def test_template_injection_is_refused_at_save(officer, field, source):
    body = {field: source}
    if field != "bodyText":
        body["bodyText"] = GOOD_REFUSAL["bodyText"]
    response = create(officer, **body)
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == field


def test_a_template_missing_a_legal_element_is_refused_naming_the_rule(officer):
    response = create(officer, bodyText="Rhesymau: {{ reasons }}\n{{ regulatorName }}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert "judicialRemedy" in error["message"] and "Art 12(4)" in error["message"]
    assert error["details"] == [
        {"field": "bodyText", "message": "missing judicialRemedy: use {{ judicialRemedy }}"}
    ]


def test_a_template_for_every_pack_must_carry_what_every_pack_requires(officer):
    response = create(officer, pack=None, bodyText="We said no.")
    assert response.status_code == 400
    assert "reasons" in response.json()["error"]["message"]
    assert create(officer, pack=None, bodyText="No, because {{ reasons }}.").status_code == 201


@pytest.mark.parametrize(("asked", "stored"), [("pt-BR", "pt-BR"), ("fr_ca", "fr-CA"), ("CY", "cy")])
def test_locales_are_bcp47_tags_of_known_languages(officer, asked, stored):
    response = create(officer, locale=asked)
    assert response.status_code == 201
    assert response.json()["data"]["template"]["locale"] == stored


@pytest.mark.parametrize("locale", ["xx-INVALID", "xx", "fr-CANADA-X", ""])
def test_a_bad_locale_is_refused(officer, locale):
    response = create(officer, locale=locale)
    assert response.status_code == 400


def test_an_unknown_pack_is_refused(officer):
    assert create(officer, pack="no-such-law").status_code == 400


def test_saving_again_makes_a_new_version_and_messages_keep_theirs(officer, make_request):
    first = create(officer, locale="en").json()["data"]["template"]
    second = create(officer, locale="en", subject="Decision on {{ requestRef }}").json()["data"]["template"]
    assert (first["version"], second["version"]) == (1, 2)
    assert first["id"] != second["id"] and second["builtIn"] is False
    listed = officer.get("/v1/message-templates?kind=REFUSAL&pack=uk-gdpr&locale=en").json()["data"][
        "templates"
    ]
    assert [t["id"] for t in listed if not t["builtIn"]] == [second["id"]]

    request = make_request()
    officer.post(f"/v1/requests/{request['id']}/refusals", {"reason": "Unfounded."})
    [message] = officer.get(f"/v1/requests/{request['id']}/messages").json()["data"]["messages"]
    assert (message["templateId"], message["templateVersion"]) == (second["id"], 2)
    assert message["subject"] == f"Decision on {request['id']}"


def test_the_list_shows_the_built_in_templates_for_a_pack(officer, intake_clerk):
    listed = officer.get("/v1/message-templates?pack=ccpa&kind=ACKNOWLEDGEMENT").json()["data"]["templates"]
    assert {(t["id"], t["builtIn"]) for t in listed} == {
        ("builtin:ccpa:ACKNOWLEDGEMENT:en", True),
        ("builtin:ccpa:ACKNOWLEDGEMENT:fr", True),
    }
    assert intake_clerk.get("/v1/message-templates").status_code == 403
    assert officer.get("/v1/message-templates?kind=NOPE").status_code == 400
    assert officer.get("/v1/message-templates?colour=red").status_code == 400


def test_preview_renders_with_a_legal_checklist(officer, make_request):
    template = create(officer, locale="en").json()["data"]["template"]

    sample = officer.post(f"/v1/message-templates/{template['id']}/preview", {}).json()["data"]
    assert [c["ok"] for c in sample["legalChecks"]] == [True, True, True]
    assert "Information Commissioner" in sample["bodyText"]

    request = make_request()
    real = officer.post(f"/v1/message-templates/{template['id']}/preview", {"requestId": request["id"]})
    assert real.status_code == 200
    assert request["id"] in real.json()["data"]["subject"]

    builtin = officer.post("/v1/message-templates/builtin:vcdpa:REFUSAL:en/preview", {}).json()["data"]
    assert {c["rule"] for c in builtin["legalChecks"]} == {
        "vcdpa.REFUSAL.reasons",
        "vcdpa.REFUSAL.appealInstructions",
        "vcdpa.REFUSAL.appealDeadline",
    }
    assert all(c["ok"] for c in builtin["legalChecks"])
    assert officer.post("/v1/message-templates/mtp_NOPE/preview", {}).status_code == 404
    assert officer.post("/v1/message-templates/builtin:nope:REFUSAL:en/preview", {}).status_code == 404


def test_another_orgs_template_is_not_found(officer, other_org_client):
    template = create(officer, locale="en").json()["data"]["template"]
    assert other_org_client.post(f"/v1/message-templates/{template['id']}/preview", {}).status_code == 404


PACKS = {pack.id: pack for pack in clocks.list_packs()}


@pytest.mark.parametrize("pack_id", sorted(PACKS))
def test_every_built_in_template_carries_every_packs_legal_minimum(pack_id):
    """The built-in English and French templates show every element each pack requires of each kind."""
    from correspondence.engine import ELEMENT_VARIABLES

    pack = PACKS[pack_id]
    for (kind, locale), builtin in BUILTINS.items():
        used = check_template(subject=builtin.subject, body_text=builtin.body_text)
        context = {name: "x" for names in ELEMENT_VARIABLES.values() for name in names}
        checks = legal_checks(pack, kind, used, context)
        assert all(check["ok"] for check in checks), (kind, locale, checks)
