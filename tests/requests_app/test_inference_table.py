"""Request-type inference against the way people actually write to companies.

Each row is a real-world phrasing and the exact set of types an officer would tick. No database needed.
"""

from __future__ import annotations

import pytest

from clocks import REQUEST_TYPES
from requests_app.inference import DEFAULT_TYPES, infer_request_types

ACCESS = "ACCESS"
ERASURE = "ERASURE"
RECTIFICATION = "RECTIFICATION"
PORTABILITY = "PORTABILITY"
RESTRICTION = "RESTRICTION"
OBJECTION = "OBJECTION"
OPT_OUT_SALE = "OPT_OUT_SALE"
LIMIT_SENSITIVE = "LIMIT_SENSITIVE"
WITHDRAW_CONSENT = "WITHDRAW_CONSENT"

# (language, text, expected types)
ROWS: list[tuple[str, str, set[str]]] = [
    # --- English -------------------------------------------------------------------------------------
    (
        "en",
        "Do not sell or share my personal information. Also tell me what you know about me.",
        {ACCESS, OPT_OUT_SALE},
    ),
    (
        "en",
        "Dear Data Protection Officer,\n\n"
        "I am writing to make a subject access request under Article 15 of the UK GDPR. Please send me\n"
        "a copy of all the personal data you hold about me, including any recordings of phone calls.\n\n"
        "My customer number is 4471-22.\n\n"
        "Kind regards,\nSarah Whitfield",
        {ACCESS},
    ),
    ("en", "Hi, please don't delete my account, just tell me what data you hold on me. Thanks", {ACCESS}),
    (
        "en",
        "I want you to delete everything you have on me and confirm when it's done. "
        "I never signed up for your service in the first place!",
        {ERASURE},
    ),
    (
        "en",
        "Under the CCPA I am exercising my right to know and my right to delete. Please also honor my "
        "request to opt out of the sale of my personal information.",
        {ACCESS, ERASURE, OPT_OUT_SALE},
    ),
    (
        "en",
        "Hello, my address on your records is wrong - I moved to 14 Elm Street last year. "
        "Could you please update it?",
        {RECTIFICATION},
    ),
    (
        "en",
        "Please stop using my data for marketing and remove me from your mailing list. "
        "I do not want to receive any more promotional emails.",
        {OBJECTION},
    ),
    (
        "en",
        "I'd like to receive my data in a machine-readable format so I can transfer it to another provider.",
        {PORTABILITY},
    ),
    (
        "en",
        "Please restrict the processing of my personal data while you verify its accuracy, as I believe "
        "my date of birth is incorrect.",
        {RECTIFICATION, RESTRICTION},
    ),
    (
        "en",
        "Please limit the use of my sensitive personal information to what is necessary. "
        "I also object to profiling.",
        {OBJECTION, LIMIT_SENSITIVE},
    ),
    (
        "en",
        "My browser sends a Global Privacy Control signal, please treat it as an opt-out. "
        "And let me know what categories of personal information you have collected about me.",
        {ACCESS, OPT_OUT_SALE},
    ),
    (
        "en",
        "I don't want my data deleted. I want to know what information you have and who you've shared "
        "it with.",
        {ACCESS},
    ),
    (
        "en",
        "It has been 45 days and you still have not deleted my account. Please delete it immediately.",
        {ERASURE},
    ),
    (
        "en",
        "Hi,\n\nPlease correct the spelling of my surname on your system - it should be 'Kowalczyk', "
        "not 'Kowalczik'.\n\nThanks,\nAnna\n\n"
        "This email and any attachments are confidential. If you have received this message in error, "
        "please notify the sender and delete it.",
        {RECTIFICATION},
    ),
    (
        "en",
        "Sorry if this is the wrong address for this, but I'd like my account and all associated data "
        "erased.",
        {ERASURE},
    ),
    (
        "en",
        "I am not asking for deletion. I want to see what personal information you have collected about me.",
        {ACCESS},
    ),
    ("en", "I am making a request under Articles 15 and 20 GDPR.", {ACCESS, PORTABILITY}),
    (
        "en",
        "Please correct my email address, then close my account and delete my data.",
        {ERASURE, RECTIFICATION},
    ),
    ("en", "Hi, I'm contacting you about my personal information.", set(DEFAULT_TYPES)),
    (
        "en",
        "To whom it may concern, pursuant to Cal. Civ. Code § 1798.105 please delete my personal "
        "information, and pursuant to § 1798.120 do not sell it.",
        {ERASURE, OPT_OUT_SALE},
    ),
    (
        "en",
        "Hi there,\n\nI recently received a letter from you even though I have never been a customer. "
        "I would like to know how you obtained my details and I want you to remove all of my information "
        "from your database.\n\nMany thanks,\nTom\n\n--\nTom Baker | Senior Engineer | Acme Ltd\n"
        "www.acme.example | +44 20 7946 0000",
        {ACCESS, ERASURE},
    ),
    # --- French --------------------------------------------------------------------------------------
    (
        "fr",
        "Bonjour,\n\nConformément à l'article 15 du RGPD, je souhaite obtenir une copie de l'ensemble "
        "des données personnelles que vous détenez me concernant.\n\nCordialement,\nJean Dupont",
        {ACCESS},
    ),
    (
        "fr",
        "Je vous demande de supprimer mon compte et toutes les données associées, en application de "
        "l'article 17 RGPD (droit à l'effacement).",
        {ERASURE},
    ),
    (
        "fr",
        "Merci de ne pas supprimer mon compte, je veux seulement savoir quelles données vous avez sur moi.",
        {ACCESS},
    ),
    (
        "fr",
        "Mon adresse postale est erronée, pouvez-vous la rectifier ? "
        "J'ai déménagé au 12 rue des Lilas, 69003 Lyon.",
        {RECTIFICATION},
    ),
    (
        "fr",
        "Je m'oppose au traitement de mes données à des fins de prospection commerciale et je souhaite "
        "me désinscrire de votre newsletter.",
        {OBJECTION},
    ),
    (
        "fr",
        "Je souhaite exercer mon droit à la portabilité : merci de me transmettre mes données dans un "
        "format structuré et lisible par machine.",
        {PORTABILITY},
    ),
    (
        "fr",
        "Bonjour, je ne veux pas que vous vendiez mes données à des tiers. Par ailleurs, merci de limiter "
        "le traitement de mes données le temps de vérifier leur exactitude.",
        {RESTRICTION, OPT_OUT_SALE},
    ),
    (
        "fr",
        "Je n'ai jamais créé de compte chez vous. D'où proviennent mes données ? "
        "Je vous demande de les effacer.",
        {ACCESS, ERASURE},
    ),
    (
        "fr",
        "Vous n'avez toujours pas supprimé mes données malgré ma demande du 3 mars.",
        {ERASURE},
    ),
    ("fr", "Ne supprimez pas mon compte mais envoyez-moi une copie de mes données.", {ACCESS}),
    # --- German --------------------------------------------------------------------------------------
    (
        "de",
        "Sehr geehrte Damen und Herren,\n\nhiermit mache ich mein Auskunftsrecht nach Art. 15 DSGVO "
        "geltend. Bitte teilen Sie mir mit, welche personenbezogenen Daten Sie über mich gespeichert "
        "haben, und stellen Sie mir eine Kopie zur Verfügung.\n\nMit freundlichen Grüßen\nMax Mustermann",
        {ACCESS},
    ),
    ("de", "Bitte löschen Sie mein Kundenkonto und alle dazugehörigen Daten gemäß Art. 17 DSGVO.", {ERASURE}),
    (
        "de",
        "Bitte löschen Sie meine Daten nicht, sondern schicken Sie mir eine Kopie aller über mich "
        "gespeicherten Daten.",
        {ACCESS},
    ),
    (
        "de",
        "Ich widerspreche der Nutzung meiner Daten für Werbezwecke und möchte keine Newsletter mehr "
        "erhalten.",
        {OBJECTION},
    ),
    (
        "de",
        "Meine Anschrift ist seit dem Umzug veraltet. Bitte berichtigen Sie diese. Außerdem verlange ich "
        "die Einschränkung der Verarbeitung nach Art. 18 DSGVO, bis die Berichtigung erfolgt ist.",
        {RECTIFICATION, RESTRICTION},
    ),
    (
        "de",
        "Ich möchte nicht, dass Sie meine Daten löschen. Ich möchte nur wissen, woher Sie meine "
        "Telefonnummer haben.",
        {ACCESS},
    ),
    (
        "de",
        "Verkaufen Sie meine Daten nicht an Dritte weiter und übermitteln Sie meine Daten in einem "
        "maschinenlesbaren Format an meinen neuen Anbieter (Art. 20 DSGVO).",
        {PORTABILITY, OPT_OUT_SALE},
    ),
    (
        "de",
        "Sie haben meine Daten trotz meines Antrags vom 2. Mai noch nicht gelöscht.",
        {ERASURE},
    ),
    (
        "de",
        "Ich widerrufe meine Einwilligung und bitte um Datenübertragbarkeit.",
        {PORTABILITY, WITHDRAW_CONSENT},
    ),
    (
        "de",
        "Bitte tragen Sie mich aus Ihrem Newsletter aus und geben Sie meine Daten nicht an Dritte weiter.",
        {OBJECTION, OPT_OUT_SALE},
    ),
    # --- Spanish -------------------------------------------------------------------------------------
    ("es", "Hola, quiero que borren mis datos y que no me envíen más publicidad.", {ERASURE, OBJECTION}),
    (
        "es",
        "Buenos días:\n\nEn virtud del artículo 15 del RGPD y del artículo 13 de la LOPDGDD, solicito "
        "acceso a mis datos personales y una copia de los mismos.\n\nAtentamente,\nLucía Fernández",
        {ACCESS},
    ),
    ("es", "No borren mi cuenta, solo quiero saber qué datos tienen sobre mí.", {ACCESS}),
    (
        "es",
        "Mi dirección de correo está mal escrita y mi apellido es incorrecto; les pido que lo rectifiquen.",
        {RECTIFICATION},
    ),
    (
        "es",
        "Me opongo al tratamiento de mis datos con fines de marketing y solicito la limitación del "
        "tratamiento mientras resuelven mi reclamación.",
        {RESTRICTION, OBJECTION},
    ),
    (
        "es",
        "Ejercito mi derecho a la portabilidad: envíen mis datos en un formato estructurado a mi nuevo "
        "proveedor.",
        {PORTABILITY},
    ),
    (
        "es",
        "No vendan ni compartan mi información personal y limiten el uso de mi información personal "
        "confidencial.",
        {OPT_OUT_SALE, LIMIT_SENSITIVE},
    ),
    (
        "es",
        "Todavía no han borrado mis datos, a pesar de mi solicitud de supresión del mes pasado.",
        {ERASURE},
    ),
    (
        "es",
        "Quiero ejercer mi derecho de acceso, rectificación, cancelación y oposición (derechos ARCO).",
        {ACCESS, ERASURE, RECTIFICATION, OBJECTION},
    ),
    ("es", "Quiero saber si han vendido mis datos a terceros.", {ACCESS}),
    # --- Portuguese (Brazil) -------------------------------------------------------------------------
    (
        "pt",
        "Olá, gostaria de saber quais dados pessoais vocês têm sobre mim e de onde vocês obtiveram o meu "
        "telefone.",
        {ACCESS},
    ),
    (
        "pt",
        "Com base no Art. 18 da LGPD, solicito a exclusão de todos os meus dados pessoais e o "
        "encerramento da minha conta.",
        {ERASURE},
    ),
    ("pt", "Não apaguem minha conta, por favor. Só quero uma cópia dos meus dados.", {ACCESS}),
    (
        "pt",
        "Meu endereço está desatualizado e meu nome está escrito errado no cadastro. Peço a correção dos "
        "dados conforme o art. 18, III, da LGPD.",
        {RECTIFICATION},
    ),
    (
        "pt",
        "Não vendam nem compartilhem meus dados com terceiros. Também quero me descadastrar da newsletter.",
        {OBJECTION, OPT_OUT_SALE},
    ),
    (
        "pt",
        "Solicito a portabilidade dos meus dados para outro fornecedor, em formato estruturado e "
        "interoperável, nos termos do art. 18, V, da LGPD.",
        {PORTABILITY},
    ),
    (
        "pt",
        "Revogo meu consentimento e me oponho ao tratamento dos meus dados para fins de marketing.",
        {OBJECTION, WITHDRAW_CONSENT},
    ),
    (
        "pt",
        "Prezados,\n\nVenho por meio deste solicitar, com fundamento no artigo 18, incisos I e II, da "
        "Lei 13.709/2018 (LGPD), a confirmação da existência de tratamento e o acesso aos meus dados "
        "pessoais. Solicito também o bloqueio dos dados desnecessários enquanto a solicitação é "
        "analisada.\n\nAtenciosamente,\nJoão Silva\nCPF 123.456.789-00",
        {ACCESS, RESTRICTION},
    ),
    ("pt", "Vocês ainda não excluíram meus dados, mesmo depois do meu pedido.", {ERASURE}),
    ("pt", "Não quero mais receber propagandas de vocês. Mas não apaguem minha conta.", {OBJECTION}),
    # --- Dutch and Italian ---------------------------------------------------------------------------
    (
        "nl",
        "Graag ontvang ik een kopie van alle persoonsgegevens die u over mij verwerkt (inzageverzoek op "
        "grond van artikel 15 AVG).",
        {ACCESS},
    ),
    ("nl", "Verwijder al mijn gegevens en stuur mij geen nieuwsbrieven meer.", {ERASURE, OBJECTION}),
    (
        "it",
        "Vi chiedo la cancellazione dei miei dati ai sensi dell'articolo 17 del GDPR e di non vendere i "
        "miei dati.",
        {ERASURE, OPT_OUT_SALE},
    ),
]


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    ROWS,
    ids=[f"{language}-{i}" for i, (language, _, _) in enumerate(ROWS)],
)
def test_it_infers_the_types_a_person_asks_for(language, text, expected):
    assert set(infer_request_types(text)) == expected


def test_the_table_covers_each_language_and_mixed_requests():
    per_language = {lang: sum(1 for row in ROWS if row[0] == lang) for lang in ("en", "fr", "de", "es", "pt")}
    assert len(ROWS) >= 40
    assert min(per_language.values()) >= 6, per_language
    assert sum(1 for _, _, expected in ROWS if len(expected) > 1) >= 10


@pytest.mark.parametrize("text", ["Do not sell my data. Delete it. Correct my name. Tell me what you hold."])
def test_types_come_back_in_canonical_order(text):
    types = infer_request_types(text)
    assert types == sorted(types, key=REQUEST_TYPES.index)
    assert types == [ACCESS, ERASURE, RECTIFICATION, OPT_OUT_SALE]


@pytest.mark.parametrize(
    "text",
    [
        "Hello",
        "",
        "   \n\n ",
        "This email is confidential. If you have received it in error, please notify the sender and "
        "delete it.",
        "> Please delete my data\n(quoted from an earlier message)",
    ],
)
def test_nothing_recognised_gives_the_documented_default(text):
    assert DEFAULT_TYPES == ("ACCESS",)
    assert infer_request_types(text) == ["ACCESS"]


def test_a_very_long_request_is_read_whole():
    # The API accepts up to 200,000 characters; a type named only at the very end still counts.
    text = "I have been a customer for many years and " * 4_500 + "I want you to erase my data."
    assert len(text) <= 200_000
    assert infer_request_types(text) == [ERASURE]
