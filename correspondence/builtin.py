# ruff: noqa: E501 - the letters' paragraphs are prose, one line each: a wrapped line would wrap the letter
"""The built-in templates: one per kind and locale, used for every pack that has no template of its own.

They carry every pack's legal minimum through variables the pack fills (`context.message_context`): a
paragraph whose variable is empty under a law (`judicialRemedy` outside the GDPR, `appealInstructions`
where there is no appeal) is left out by its `{% if %}`. `tests/correspondence` renders each one under
every pack and checks the pack's required elements are there.

English is complete; French covers every kind too (the second language the product ships). An
organisation adds other languages, or its own wording, as templates of its own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Builtin:
    kind: str
    locale: str
    subject: str
    body_text: str
    version: int = 1


_EN: dict[str, tuple[str, str]] = {
    "ACKNOWLEDGEMENT": (
        "We have received your request {{ requestRef }}",
        """Dear {{ requestorName|default:"requester" }},

{{ orgName }} received your request ({{ requestTypes }}) on {{ receivedDate }}, reference {{ requestRef }}. We are handling it under {{ law }}.
{% if verificationProcess %}
How we verify your identity: {{ verificationProcess }}
{% endif %}
You can expect our answer by {{ expectedBy }}. If we need more time, we will tell you before then and say why.
{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "VERIFICATION_CODE": (
        "Your verification code for request {{ requestRef }}",
        """Dear {{ requestorName|default:"requester" }},

To confirm that request {{ requestRef }} to {{ orgName }} is yours, give us this code:

    {{ code }}

The code works until {{ expiresAt }}. If you did not make this request, ignore this message: nothing will be disclosed without the code.
{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "VERIFICATION_LINK": (
        "Confirm your request {{ requestRef }}",
        """Dear {{ requestorName|default:"requester" }},

To confirm that request {{ requestRef }} to {{ orgName }} is yours, open this link and press "Confirm":

{{ link }}

The link works until {{ expiresAt }}. If you did not make this request, ignore this message: nothing will be disclosed unless you confirm.
{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "CLARIFICATION": (
        "We need more information about your request {{ requestRef }}",
        """Dear {{ requestorName|default:"requester" }},

To answer your request {{ requestRef }}, received on {{ receivedDate }}, we need you to clarify the following:

{{ clarification }}

Please reply to this message. Under {{ law }}, the time we have to answer may not run until we hear from you.
{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "EXTENSION": (
        "We need more time to answer your request {{ requestRef }}",
        """Dear {{ requestorName|default:"requester" }},

We are extending the time to answer your request {{ requestRef }}, received on {{ receivedDate }}, as {{ law }} allows.

Why we need more time: {{ reasons }}

You will have our answer by {{ newDueDate }}.
{% if regulatorName %}
If you are unhappy with how we handle your request, you may complain to {{ regulatorName }} ({{ regulatorUrl }}).
{% endif %}{% if judicialRemedy %}
You also have {{ judicialRemedy }}.
{% endif %}{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "REFUSAL": (
        "Our decision on your request {{ requestRef }}",
        """Dear {{ requestorName|default:"requester" }},

We have decided not to act on your request {{ requestRef }} ({{ requestTypes }}), received on {{ receivedDate }}.

Our reasons: {{ reasons }}
{% if appealInstructions %}
You may appeal this decision. {{ appealInstructions }} Please appeal by {{ appealDeadline }}.
{% endif %}{% if regulatorName %}
You have the right to complain to {{ regulatorName }} ({{ regulatorUrl }}).
{% endif %}{% if judicialRemedy %}
You also have {{ judicialRemedy }}.
{% endif %}{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "CLOSURE": (
        "Your request {{ requestRef }} is complete",
        """Dear {{ requestorName|default:"requester" }},

We have completed your request {{ requestRef }} ({{ requestTypes }}), received on {{ receivedDate }}: {{ outcome }}.
{% if appealInstructions %}
If you disagree with how we handled it, you may appeal. {{ appealInstructions }} Please appeal by {{ appealDeadline }}.
{% endif %}{% if regulatorName %}
You have the right to complain to {{ regulatorName }} ({{ regulatorUrl }}).
{% endif %}{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "DELIVERY_READY": (
        "Your data from {{ orgName }} is ready",
        """Dear {{ requestorName|default:"requester" }},

The copy of your data for request {{ requestRef }} is ready. Download it from our secure page:

{{ link }}

The file is {{ bundleSize }}; its SHA-256 checksum is {{ bundleSha256 }}. The page works until {{ expiresAt }}.
{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "APPEAL_DECISION": (
        "Our decision on your appeal, request {{ requestRef }}",
        """Dear {{ requestorName|default:"requester" }},

We have decided your appeal on request {{ requestRef }}: {{ outcome }}.

Our reasons: {{ reasons }}
{% if regulatorName %}
If you disagree, you may complain to {{ regulatorName }} ({{ regulatorUrl }}).
{% endif %}{% if judicialRemedy %}
You also have {{ judicialRemedy }}.
{% endif %}{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "CUSTOM": ("{{ subjectLine }}", "{{ extraText }}\n\n{{ orgName }}"),
}

_FR: dict[str, tuple[str, str]] = {
    "ACKNOWLEDGEMENT": (
        "Nous avons bien reçu votre demande {{ requestRef }}",
        """Bonjour{% if requestorName %} {{ requestorName }}{% endif %},

{{ orgName }} a reçu votre demande ({{ requestTypes }}) le {{ receivedDate }}, sous la référence {{ requestRef }}. Nous la traitons au titre de : {{ law }}.
{% if verificationProcess %}
Vérification de votre identité : {{ verificationProcess }}
{% endif %}
Vous recevrez notre réponse au plus tard le {{ expectedBy }}. S'il nous faut plus de temps, nous vous le dirons avant cette date, avec nos raisons.
{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "VERIFICATION_CODE": (
        "Votre code de vérification pour la demande {{ requestRef }}",
        """Bonjour{% if requestorName %} {{ requestorName }}{% endif %},

Pour confirmer que la demande {{ requestRef }} adressée à {{ orgName }} émane bien de vous, indiquez ce code :

    {{ code }}

Le code est valable jusqu'au {{ expiresAt }}. Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : rien ne sera communiqué sans le code.
{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "VERIFICATION_LINK": (
        "Confirmez votre demande {{ requestRef }}",
        """Bonjour{% if requestorName %} {{ requestorName }}{% endif %},

Pour confirmer que la demande {{ requestRef }} adressée à {{ orgName }} émane bien de vous, ouvrez ce lien et appuyez sur « Confirmer » :

{{ link }}

Le lien est valable jusqu'au {{ expiresAt }}. Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : rien ne sera communiqué sans votre confirmation.
{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "CLARIFICATION": (
        "Précisions nécessaires sur votre demande {{ requestRef }}",
        """Bonjour{% if requestorName %} {{ requestorName }}{% endif %},

Pour répondre à votre demande {{ requestRef }}, reçue le {{ receivedDate }}, nous avons besoin que vous précisiez ceci :

{{ clarification }}

Merci de répondre à ce message. Au titre de : {{ law }}, le délai de réponse peut être suspendu jusqu'à votre réponse.
{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "EXTENSION": (
        "Prolongation du délai de réponse à votre demande {{ requestRef }}",
        """Bonjour{% if requestorName %} {{ requestorName }}{% endif %},

Nous prolongeons le délai de réponse à votre demande {{ requestRef }}, reçue le {{ receivedDate }}, comme le permet : {{ law }}.

Motifs de la prolongation : {{ reasons }}

Vous recevrez notre réponse au plus tard le {{ newDueDate }}.
{% if regulatorName %}
Si vous n'êtes pas satisfait du traitement de votre demande, vous pouvez introduire une réclamation auprès de : {{ regulatorName }} ({{ regulatorUrl }}).
{% endif %}{% if judicialRemedy %}
Vous disposez également du droit à un recours juridictionnel effectif : {{ judicialRemedy }}.
{% endif %}{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "REFUSAL": (
        "Notre décision sur votre demande {{ requestRef }}",
        """Bonjour{% if requestorName %} {{ requestorName }}{% endif %},

Nous avons décidé de ne pas donner suite à votre demande {{ requestRef }} ({{ requestTypes }}), reçue le {{ receivedDate }}.

Motifs : {{ reasons }}
{% if appealInstructions %}
Vous pouvez faire appel de cette décision. {{ appealInstructions }} Merci de faire appel au plus tard le {{ appealDeadline }}.
{% endif %}{% if regulatorName %}
Vous avez le droit d'introduire une réclamation auprès de : {{ regulatorName }} ({{ regulatorUrl }}).
{% endif %}{% if judicialRemedy %}
Vous disposez également du droit à un recours juridictionnel effectif : {{ judicialRemedy }}.
{% endif %}{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "CLOSURE": (
        "Votre demande {{ requestRef }} est traitée",
        """Bonjour{% if requestorName %} {{ requestorName }}{% endif %},

Nous avons traité votre demande {{ requestRef }} ({{ requestTypes }}), reçue le {{ receivedDate }} : {{ outcome }}.
{% if appealInstructions %}
Si vous contestez ce traitement, vous pouvez faire appel. {{ appealInstructions }} Merci de faire appel au plus tard le {{ appealDeadline }}.
{% endif %}{% if regulatorName %}
Vous avez le droit d'introduire une réclamation auprès de : {{ regulatorName }} ({{ regulatorUrl }}).
{% endif %}{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "DELIVERY_READY": (
        "Vos données sont prêtes ({{ orgName }})",
        """Bonjour{% if requestorName %} {{ requestorName }}{% endif %},

La copie de vos données pour la demande {{ requestRef }} est prête. Téléchargez-la depuis notre page sécurisée :

{{ link }}

Le fichier fait {{ bundleSize }} ; sa somme de contrôle SHA-256 est {{ bundleSha256 }}. La page est valable jusqu'au {{ expiresAt }}.
{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "APPEAL_DECISION": (
        "Notre décision sur votre appel, demande {{ requestRef }}",
        """Bonjour{% if requestorName %} {{ requestorName }}{% endif %},

Nous avons statué sur votre appel concernant la demande {{ requestRef }} : {{ outcome }}.

Motifs : {{ reasons }}
{% if regulatorName %}
Si vous contestez cette décision, vous pouvez introduire une réclamation auprès de : {{ regulatorName }} ({{ regulatorUrl }}).
{% endif %}{% if judicialRemedy %}
Vous disposez également du droit à un recours juridictionnel effectif : {{ judicialRemedy }}.
{% endif %}{% if extraText %}
{{ extraText }}
{% endif %}
{{ orgName }}""",
    ),
    "CUSTOM": ("{{ subjectLine }}", "{{ extraText }}\n\n{{ orgName }}"),
}

BUILTINS: dict[tuple[str, str], Builtin] = {
    (kind, locale): Builtin(kind=kind, locale=locale, subject=subject, body_text=body)
    for locale, table in (("en", _EN), ("fr", _FR))
    for kind, (subject, body) in table.items()
}
BUILTIN_LOCALES: tuple[str, ...] = ("en", "fr")


ANY_PACK = "*"


def builtin_id(pack: str, kind: str, locale: str) -> str:
    """`builtin:uk-gdpr:REFUSAL:en`; `builtin:*:REFUSAL:en` names the text every pack shares."""
    return f"builtin:{pack or ANY_PACK}:{kind}:{locale}"


def parse_builtin_id(template_id: str) -> tuple[str, str, str] | None:
    parts = template_id.split(":")
    if len(parts) != 4 or parts[0] != "builtin":
        return None
    return parts[1], parts[2], parts[3]
