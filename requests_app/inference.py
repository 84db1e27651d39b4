"""Suggest a request's types from the requestor's own words.

`infer_request_types(raw_text)` reads the free text of a request (an e-mail, a web form, a letter) and
returns the request types it recognises, in the canonical order of `clocks.REQUEST_TYPES`. When it
recognises nothing it returns `DEFAULT_TYPES` (`["ACCESS"]`): access is the most common request and the
one every law covers. It is a suggestion, not a ruling: the API marks the result `requestTypesInferred:
true`, and the officer corrects it with `PUT /v1/requests/{id}/request-types`.

How it reads a text:

1. Normalise: quoted reply lines (``> ...``) are dropped; the text is case-folded, accents are stripped
   (``löschen`` -> ``loschen``, ``não`` -> ``nao``), English ``n't`` becomes `` not``, apostrophes, hyphens
   and quotes become spaces, and whitespace is collapsed. Every pattern below is written in that form.
2. Split into sentences (``. ! ? ; :``, blank lines) and drop e-mail disclaimers ("if you received this
   message in error, please delete it"). Article citations are read per sentence: "Art. 15 DSGVO",
   "article 17 RGPD", "artículo 15 del RGPD", "Art. 18, II, LGPD", "§ 1798.120" (see `_ARTICLES`). A
   citation counts only when the law is named in the same sentence or is the only law the text names.
3. Split each sentence into clauses at commas (not before "that", "dass", "que") and at conjunctions
   ("and", "but", "also", "et", "und", "aber", "y", "pero", "e", "porém", ...), so that each clause
   carries its own request and a negation stays in its clause. French "mais" and Spanish "mas" are not
   split on: they are also Portuguese "mais" (more) and Spanish "más" (more).
4. Match each clause against `_PHRASES`: phrase patterns per type per language (English, French,
   German, Spanish, Portuguese, and a few Dutch and Italian ones), each a regex between word boundaries.
5. Negation: a match is dropped when a negation cue ("not", "never", "without", "ne", "nicht", "kein",
   "no", "não", "niet", "non", ...) stands within six words before it in its clause, with no other
   match in between ("do not delete my account, just tell me what you hold" -> ACCESS). German and
   Dutch also negate after the verb ("löschen Sie meine Daten nicht"). Complaints are not negations:
   "you have not deleted", "noch nicht gelöscht", "todavía no han borrado" still mean ERASURE. Sale and
   sensitive-data phrases carry their own negation ("do not sell", "ne vendez pas") and are never
   negated.
6. Within a clause, the specific absorbs the general: a sale opt-out absorbs an objection ("I object
   to the sale of my data" is OPT_OUT_SALE), limiting sensitive data absorbs a restriction, and
   portability absorbs access ("send me my data in a machine-readable format" is PORTABILITY).

Limits, deliberately: it is phrase matching, not understanding. It does not detect the language, so a
pattern from one language can fire in another (they are chosen to be distinctive). It ignores
conditionals and hypotheticals ("if you hold any data, delete it" is ERASURE only, as intended, but
"should I ask you to delete it?" is ERASURE too). Negation scope is a heuristic; sarcasm, double
negatives and negations spanning sentences are not handled. An article number without a named law
("under Article 15") is not read. A bare word with no object is not read where it is ambiguous
("access" alone may be account access, "copy of" may be a copy of a passport, "wrong" may be "sorry
if this is the wrong address"); the patterns want an object ("copy of my data", "my address is
wrong"). A question about a past sale ("have you sold my data?") is not an opt-out. "Close my account"
counts as ERASURE.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable

from clocks import REQUEST_TYPES

DEFAULT_TYPES: tuple[str, ...] = ("ACCESS",)
"""What `infer_request_types` returns when it recognises no type at all."""

# A few words of article, determiner or adjective between a verb and the thing it acts on.
_W = r"(?:\w+ )"
# What an objection to marketing stops.
_CONTACT_EN = (
    r"(?:marketing|e ?mails|emails|newsletters?|messages|calls|texts|sms|offers|promotions|promotional"
    r"|advertising|ads|communications|mail|post|letters|spam)"
)

# ---------------------------------------------------------------------------------------------------
# The table: request type -> language -> phrase patterns (regexes over normalised text; each is wrapped
# in word boundaries). German compounds are spelled with a leading \w* ("\w*losch" matches
# "Datenlöschung"). Patterns may contain their own negation ("do not sell", "no longer want to receive"):
# only a cue *before* a match negates it.
# ---------------------------------------------------------------------------------------------------
_PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "ACCESS": {
        "en": (
            r"subject access",
            r"access request",
            r"(?:request\w*|exercis\w*|seek\w*|obtain) (?:access|a copy)",
            r"right (?:of|to) access",
            r"(?:right|request) to know",
            r"d?sar",
            rf"access to {_W}{{0,3}}(?:data|information|info|records|files?|details)",
            r"cop(?:y|ies) of (?:(?:a|all|any|the|my|of|our|your|personal|full|complete|electronic)"
            r" ){0,4}(?:data|information|info|records|files?|details|everything)",
            r"(?:send|give|provide|email|forward|supply|show|disclose) (?:me|us)(?: with)? "
            r"(?:(?:a|an|the|all|any|my|of|copy|copies|personal|full|complete|list|summary|overview"
            r"|electronic|relevant|everything) ){0,6}(?:data|information|info|records|details)",
            rf"what {_W}{{0,4}}(?:know|hold|ha(?:ve|s|d)|stor|keep|kept|collect|process|retain|gather|held)"
            r"\w* (?:about|on|of|from|regarding|concerning) me",
            rf"(?:tell|show|inform) me (?:exactly )?what {_W}{{0,4}}(?:know|hold|have|store|keep|collect"
            r"|process|retain|gather|held|data|information|info|details)\w*",
            r"(?:know|see|find out|learn|understand) (?:exactly )?(?:what|which) (?:\w+ )?"
            r"(?:data|information|info|details)",
            r"whether (?:or not )?(?:you|your (?:company|organi[sz]ation|firm)) (?:\w+ )?(?:hold|have|has"
            r"|process|store|keep|use)\w*(?! (?:deleted|erased|removed|corrected|updated))",
            rf"categories of {_W}{{0,2}}(?:data|information)",
            r"(?:where|how) (?:did )?you (?:got|get|obtained|obtain|collected|acquired|found|sourced"
            r"|received) my",
            rf"who {_W}{{0,3}}(?:shared|sold|disclosed|passed|given|gave|transferred) {_W}{{0,2}}(?:my|me)",
            rf"how {_W}{{0,3}}(?:use|uses|using|process|processes|processing) {_W}{{0,2}}(?:my|me)",
            r"how my (?:personal )?(?:data|information) (?:is|are|has been|was) (?:being )?(?:used"
            r"|processed|shared)",
            r"(?:like|want|request|need|receive|obtain|get|see) (?:a copy of )?(?:all |everything )?"
            r"(?:of )?(?:the |my )?(?:personal )?(?:data|information|info|details) (?:that )?you "
            r"(?:\w+ )?(?:hold|have|has|process|store|keep|collected|held|retain)\w*"
            r"(?!.{0,40}\b(?:delet|eras|remov))",
        ),
        "fr": (
            r"droit d acces",
            r"demande d acces",
            rf"acc(?:es|eder) a {_W}{{0,3}}(?:donnees|informations)",
            rf"copies? (?:de|des|d) {_W}{{0,3}}(?:donnees|informations)",
            rf"quel(?:le)?s? {_W}{{0,2}}(?:donnees|informations)",
            r"ce que vous (?:\w+ ){0,2}(?:savez|detenez|possedez|conservez|stockez|traitez)",
            rf"(?:me|m) (?:communiquer|communiquez|transmettre|transmettez|envoyer|envoyez|fournir"
            rf"|fournissez|adresser|adressez|faire parvenir|faites parvenir) {_W}{{0,4}}"
            r"(?:donnees|informations)",
            rf"(?:envoy|transmet|communiqu|adress|fourniss)ez moi {_W}{{0,4}}(?:donnees|informations|copie)",
            rf"d ou {_W}{{0,2}}(?:proviennent|viennent|provient|obtenu|tenez)",
            r"savoir (?:quel|quelle|quels|quelles|ce que|comment vous)",
        ),
        "de": (
            r"\w*auskunft\w*",
            rf"kopie {_W}{{0,4}}(?:daten|informationen)",
            rf"welche {_W}{{0,2}}(?:daten|informationen)",
            rf"was sie {_W}{{0,3}}(?:uber mich|von mir|zu meiner person)",
            r"einsicht\w*",
            rf"zugang zu {_W}{{0,2}}(?:daten|informationen)",
            rf"\w*ubersicht {_W}{{0,3}}(?:daten|informationen)",
            r"woher",
            rf"ob sie {_W}{{0,3}}(?:daten|informationen)",
        ),
        "es": (
            r"derecho de acceso",
            r"(?:solicitud|peticion) de acceso",
            rf"acce(?:so|der) a {_W}{{0,3}}(?:datos|informacion)",
            rf"copias? (?:de|del) {_W}{{0,3}}(?:datos|informacion)",
            rf"(?:que|cuales) {_W}{{0,2}}(?:datos|informacion) {_W}{{0,2}}(?:tienen|tiene|tienes|guardan"
            r"|conservan|almacenan|tratan|poseen|disponen|recopil\w*)",
            rf"(?:saber|conocer|sepa|informen|indiquen|informarme|indicarme|decirme|digan) {_W}{{0,2}}"
            rf"(?:que|cuales|si) {_W}{{0,2}}(?:datos|informacion)",
            rf"(?:enviarme|envienme|me envien|facilitarme|facilitenme|me faciliten|proporcionarme"
            rf"|proporcionenme|me proporcionen|remitirme|me remitan|mandarme|me manden) {_W}{{0,4}}"
            r"(?:datos|informacion)",
            rf"de donde {_W}{{0,2}}(?:obtuv|sac|consigu)\w*",
        ),
        "pt": (
            r"direito de acesso",
            r"(?:pedido|solicitacao|requisicao|requerimento) de acesso",
            rf"acess(?:o|ar) (?:a|aos|as|ao) {_W}{{0,3}}(?:dados|informacoes)",
            rf"copias? (?:de|dos|das|do) {_W}{{0,3}}(?:dados|informacoes)",
            r"copias? (?:dos mesmos|das mesmas|deles|delas)",
            rf"(?:quais|que) {_W}{{0,2}}(?:dados|informacoes) {_W}{{0,2}}(?:tem|tenham|possuem|possui"
            r"|armazenam|guardam|tratam|coletaram|coletam|mantem)",
            r"quais (?:sao )?(?:os )?(?:meus )?(?:dados|informacoes)",
            rf"confirmacao {_W}{{0,3}}tratamento",
            rf"(?:saber|informem|informar|me digam|dizer) {_W}{{0,2}}(?:quais|que|se) {_W}{{0,2}}"
            r"(?:dados|informacoes)",
            rf"(?:me enviem|me envie|enviar me|me mandem|me mande|me forne\w*|fornecer me|me passem"
            rf"|me encaminhem) {_W}{{0,4}}(?:dados|informacoes)",
            rf"de onde {_W}{{0,2}}(?:obtiv|consegu|tiraram|pegaram)\w*",
            rf"relatorio {_W}{{0,3}}(?:dados|informacoes)",
        ),
        "nl": (r"inzage\w*", rf"kopie van {_W}{{0,3}}\w*gegevens", rf"welke {_W}{{0,2}}\w*gegevens"),
        "it": (
            r"diritto di accesso",
            rf"accesso ai {_W}{{0,2}}dati",
            rf"copia (?:dei|di) {_W}{{0,2}}dati",
            rf"quali {_W}{{0,2}}dati",
        ),
    },
    "ERASURE": {
        "en": (
            r"delet(?:e|ed|es|ing|ion)",
            r"eras(?:e|ed|es|ing|ure)",
            r"right to be forgotten",
            r"forget (?:about )?me",
            r"remov(?:e|al of|ing) (?:all |any )?(?:of )?(?:my|our) (?:\w+ )?(?:data|information|info"
            r"|details|account|records|profile|file|personal)",
            r"remov(?:e|al of|ing) me from (?:your |the |all |any )?(?:\w+ )?(?:database|databases"
            r"|system|systems|records|servers|files|crm)",
            r"(?:wipe|purge|destroy|anonymi[sz]e) (?:all )?(?:of )?(?:my|the|any|our)",
            r"close (?:down )?my account",
            r"get rid of (?:all )?(?:of )?my",
            rf"want {_W}{{1,3}}gone",
        ),
        "fr": (
            r"supprim\w*",
            r"suppression",
            r"effac\w*",
            r"droit (?:a|au) l? ?oubli",
            r"(?:fermer|fermeture|cloturer|cloture) (?:de )?(?:mon|ma) (?:compte|profil)",
            rf"(?:detruire|destruction) (?:de )?{_W}{{0,2}}donnees",
        ),
        "de": (
            r"\w*(?<!er)losch\w*",
            r"vergessen ?werden",
            r"recht auf vergessen\w*",
            rf"(?:entfern|vernicht)\w* (?:sie )?{_W}{{0,2}}(?:daten|konto|account|profil|angaben)",
        ),
        "es": (
            r"borr(?:ar|en|e|o|ad[oa]s?|ar(?:lo|la|los|las|me)|eis)",
            r"supresion",
            r"suprim\w*",
            r"elimin\w*",
            # "Cancelación" is the old (ARCO) name of erasure, unless it cancels an order or a contract.
            r"cancelacion(?! (?:de |del )?(?:la |el |mi |su )?(?:suscripcion|pedido|compra|contrato|reserva"
            r"|cita|vuelo|tarjeta|servicio|pago|poliza))",
            r"derecho al olvido",
            r"(?:dar|den|de) de baja (?:mi|la) cuenta",
            r"(?:cerrar|cierren|cierre) (?:de )?mi cuenta",
        ),
        "pt": (
            r"apag(?:ar|uem|ue|ad[oa]s?|em|uei)",
            r"exclu(?:ir|am|a|ido|idos|ida|idas|sao|indo|irem|i|iram|imos)",
            r"delet(?:ar|em|ad[oa]s?)",
            r"esquecimento",
            rf"remov(?:er|am|a|ido|idos) {_W}{{0,2}}(?:dados|informacoes|conta|cadastro)",
            r"(?:encerrar|encerramento|encerrem) (?:d[ao] )?(?:minha )?conta",
            r"anonimiz\w*",
        ),
        "nl": (r"verwijder\w*", r"vergeten te worden"),
        "it": (r"cancella(?:re|te|zione|to|ti|ta)", r"diritto all oblio"),
    },
    "RECTIFICATION": {
        "en": (
            r"rectif\w*",
            r"correct (?:my|the|your|this|these|that|it|them|any|all|errors?|mistakes?|inaccura\w*)",
            r"corrections?",
            r"right to correct\w*",
            r"amend\w* (?:my|the|your)",
            r"updat(?:e|ing) my",
            r"update (?:your|the) (?:records|details|information|data|file|database|system)",
            r"chang(?:e|ed|ing) my (?:\w+ )?(?:address|name|surname|e ?mail|phone|number|details"
            r"|date of birth|title|gender|spelling)",
            r"fix (?:my|the) (?:\w+ )?(?:name|address|details|records?|spelling|error|mistake|typo|data"
            r"|information)",
            rf"my {_W}{{0,4}}(?:is|are|was|were|has been|have been) (?:\w+ )?(?:wrong|incorrect|inaccurate"
            r"|outdated|out of date|misspelt|misspelled|not correct|not accurate|not up to date"
            r"|no longer (?:correct|accurate|valid|current))",
            r"(?:wrong|incorrect|inaccurate|outdated|out of date|erroneous) (?:personal )?(?:data"
            r"|information|details|records|entries|entry|spelling)",
            r"inaccura\w*",
            r"misspel\w*",
            r"typo in my",
            rf"you have {_W}{{0,2}}(?:wrong|incorrect|outdated|old|misspelt|misspelled)",
            rf"(?:wrong|incorrect|outdated|old) {_W}{{0,4}}(?:on file|in your (?:records|system|database))",
            r"my new (?:\w+ )?(?:address|email|email address|name|surname|phone number|number) is",
        ),
        "fr": (
            r"rectifi\w*",
            r"corrig\w*",
            r"correction",
            r"(?:mettre|mettiez|mettez) a jour",
            r"mise a jour (?:de )?(?:mon|ma|mes)",
            r"modifi\w* (?:mon|ma|mes) (?:\w+ )?(?:adresse|nom|prenom|email|numero|coordonnees|donnees"
            r"|informations|date)",
            r"erron(?:e|ee|es|ees|eo|ea|eos|eas)",
            r"inexacte?s?",
            r"incorrecte?s",
            r"incorrecte",
            r"(?:ne|n) (?:est|sont) plus (?:a jour|correct\w*|exact\w*|valable\w*)",
        ),
        "de": (
            r"\w*berichtig\w*",
            r"korrigier\w*",
            r"\w*korrektur\w*",
            r"aktualisier\w*",
            r"unrichtig\w*",
            r"fehlerhaft\w*",
            rf"(?:meine|mein|meinen|meiner) {_W}{{0,3}}(?:ist|sind|war|waren) (?:\w+ )?(?:falsch|veraltet"
            r"|nicht (?:mehr )?(?:korrekt|richtig|aktuell))",
            r"(?:eine|meine|ihre) (?:falsch|veraltet)e\w* (?:\w+ )?(?:adresse|anschrift|name|namen|daten"
            r"|angaben|email|telefonnummer|geburtsdatum)",
            r"(?:adress|namens)anderung",
            r"ander\w* (?:sie )?(?:bitte )?(?:meine|meinen|die) (?:\w+ )?(?:adresse|anschrift|\w*namen?"
            r"|email|email adresse|telefonnummer|daten|bankverbindung)",
            r"(?:meine|meinen|meiner|die) (?:\w+ )?(?:adresse|anschrift|\w*namen?|email|email adresse"
            r"|telefonnummer|daten|bankverbindung) (?:\w+ )?(?:andern|aktualisieren|korrigieren)",
        ),
        "es": (
            r"rectific\w*",
            r"corr(?:eg|ij)\w*",
            r"correccion\w*",
            r"actuali[zc]\w* (?:\w+ )?(?:mi|mis)",
            r"modific\w* (?:mi|mis) (?:\w+ )?(?:direccion|nombre|apellidos?|email|correo|telefono|datos)",
            r"inexact[oa]s?",
            r"incorrect[oa]s?",
            r"desactualizad[oa]s?",
            r"(?:esta|estan) mal",
            r"no (?:es|son|esta|estan) (?:correct[oa]s?|actualizad[oa]s?)",
            r"incomplet[oa]s?",
        ),
        "pt": (
            r"retific\w*",
            r"corrig\w*",
            r"corrij\w*",
            r"correcao",
            r"atualiz\w* (?:\w+ )?(?:meu|minha|meus|minhas)",
            r"alter\w* (?:\w+ )?(?:meu|minha) (?:\w+ )?(?:endereco|nome|sobrenome|email|telefone|cadastro"
            r"|dados)",
            r"incorret[oa]s?",
            r"inexat[oa]s?",
            r"desatualizad[oa]s?",
            r"(?:esta|estao|sao|eh|foi|foram) (?:\w+ )?errad[oa]s?",
            rf"(?:dados|informacoes|cadastro) {_W}{{0,2}}errad[oa]s?",
        ),
        "nl": (r"rectificatie", r"corrigeren", r"onjuist\w*"),
        "it": (r"rettific\w*", r"correggere", r"inesatt[oi]"),
    },
    "PORTABILITY": {
        "en": (
            r"portab\w*",
            r"machine readable",
            r"export\w*",
            rf"(?:transmit|port|move|migrate|transfer)\w* {_W}{{0,5}}to (?:another|a new|my new|the new"
            r"|a different|a competitor|a competing)",
            rf"send {_W}{{0,3}}(?:data|information) {_W}{{0,2}}to (?:another|a new|my new|the new|a different"
            r"|a competitor|a competing)",
            r"(?:port|migrate) my",
            r"csv|json|xml",
        ),
        "fr": (
            r"portabilit\w*",
            r"lisible par (?:une )?machine",
            rf"format {_W}{{0,3}}(?:structure|interoperable)\w*",
            rf"(?:transfer|transmet)\w* {_W}{{0,4}}(?:a|vers|chez) (?:un autre|une autre|mon nouvel?"
            r"|ma nouvelle|un nouvel?|une nouvelle)",
        ),
        "de": (
            r"\w*ubertragbar\w*",
            r"maschinenlesbar\w*",
            rf"(?:ubermitt|ubertrag)\w* {_W}{{0,4}}(?:an|zu) (?:einen|eine|meinen|meine|den|die) "
            r"(?:anderen|andere|neuen|neue)",
        ),
        "es": (
            r"portabilidad",
            r"lectura mecanica",
            r"legible por (?:una )?maquina",
            rf"formato {_W}{{0,2}}estructurado",
            rf"(?:transfer|transmit|envi)\w* {_W}{{0,4}}(?:a|hacia) (?:otro|otra|un nuevo|una nueva|mi nuevo"
            r"|mi nueva)",
        ),
        "pt": (
            r"portabilidade",
            r"legivel por (?:maquina|computador)",
            rf"formato {_W}{{0,2}}(?:estruturado|interoperavel)",
            rf"(?:transfer|transmit|envi|port)\w* {_W}{{0,4}}(?:para|a) (?:outro|outra|um novo|uma nova"
            r"|o novo|a nova|meu novo|minha nova)",
        ),
        "nl": (r"overdraagbaarheid", r"overdragen", r"machineleesbaar"),
        "it": (r"portabilita",),
    },
    "RESTRICTION": {
        "en": (
            r"restrict(?:ion|ing|s)?",
            rf"stop (?:\w+ )?(?:processing|using) {_W}{{0,6}}(?:while|whilst|until|pending|till)",
            r"(?:suspend|freeze|pause)\w* (?:the )?(?:processing|use of my)",
            r"(?:only|just) (?:store|keep|retain|hold) (?:my|the|it)",
            rf"(?:do not|not) (?:use|process) {_W}{{0,3}}(?:until|while|pending)",
        ),
        "fr": (
            r"limit\w* (?:du |le |de |des |de leur |de son |de mon )?traitement\w*",
            r"(?:gel|geler|gelez|suspen\w*) (?:du |le |de |des )?(?:\w+ )?(?:traitement|donnees)",
        ),
        "de": (r"\w*einschrank\w*", r"sperrung\w*", r"(?:daten|konto) (?:\w+ )?sperren", r"sperren sie"),
        "es": (
            r"limitacion (?:del|de) tratamiento",
            r"limit(?:ar|en|e) (?:el )?tratamiento",
            r"suspen\w* (?:el )?tratamiento",
            r"bloqueo de (?:\w+ )?datos",
        ),
        "pt": (
            r"limitacao (?:do|de) tratamento",
            r"limit(?:ar|em|e) (?:o )?tratamento",
            r"bloqueio (?:d[oa]s? )?(?:\w+ )?(?:dados|tratamento)",
            rf"bloque\w* {_W}{{0,2}}dados",
            r"suspen\w* (?:o |do )?tratamento",
        ),
        "nl": (r"beperk\w* (?:van )?(?:de )?verwerking",),
        "it": (r"limitazione (?:del )?trattamento",),
    },
    "OBJECTION": {
        "en": (
            r"object(?:ing|s)? to",
            r"i (?:hereby )?object",
            r"objection",
            r"right to object",
            r"stop (?:processing|using)(?!(?: \w+){0,8} (?:while|whilst|until|pending|till)\b)",
            r"unsubscrib\w*",
            r"opt(?:ing)? out of (?:all |any |your |the )?(?:\w+ )?(?:marketing|newsletters?|e ?mails?"
            r"|communications|profiling|promotions|promotional|mailings?|calls)",
            r"(?:no longer|not) (?:want|wish) to (?:receive|get) (?:any )?(?:more |further )?(?:\w+ )?"
            rf"{_CONTACT_EN}",
            r"(?:no longer|not) (?:want|wish) to be (?:contacted|called|emailed|texted)",
            r"stop (?:sending|contacting|calling|emailing|texting|messaging|mailing) me",
            r"(?:do not|never) (?:contact|call|email|text|message|mail) me",
            rf"(?:take|remove) me off {_W}{{0,3}}lists?",
            rf"remove me from {_W}{{0,2}}(?:mailing|marketing|email|newsletter|contact|call|calling|sms"
            r"|text|distribution|advertising|promotional)\w*",
            rf"from {_W}{{0,2}}(?:mailing|marketing|newsletter|distribution|calling) lists?",
            r"(?:withdraw|revoke)\w* (?:my |all |any )?consent",
            rf"(?:do not|not) (?:use|process) {_W}{{0,3}}(?:for|in) (?:\w+ )?(?:marketing|profiling"
            r"|advertising|analytics|promotions|promotional)",
            r"no more (?:marketing|e ?mails|newsletters|calls|spam|advertising)",
        ),
        "fr": (
            r"(?:m|me) oppos\w*",
            r"opposition",
            r"(?:ne|n) (?:\w+ )?plus (?:\w+ )?(?:recevoir|etre (?:contacte|sollicite|demarche)\w*)",
            r"(?:ne|n) (?:utilis|trait)\w* plus",
            rf"(?:ne|n) {_W}{{0,2}}plus (?:\w+ )?(?:utilis|trait|exploit)\w*",
            r"desabonn\w*",
            r"desinscri\w*",
            r"(?:retir\w*|retrait|revoqu\w*) (?:de )?(?:mon |du )?consentement",
            r"(?:cess|arret)\w* de (?:m |me )?(?:envoyer|contacter|utiliser|traiter"
            r"|solliciter|demarcher|appeler)",
            r"prospection",
        ),
        "de": (
            r"widerspr(?:uch(?!lich)|ech|ich|och)\w*",
            r"widerruf\w*",
            r"\w*(?:abbestell|abmeld)\w*",
            r"austragen|\w*(?:newsletter|verteiler|mailingliste)\w* aus",
            rf"kein\w* {_W}{{0,2}}(?:werbung|newsletter|werbemails?|werbeanrufe|werbepost|marketing|post"
            r"|e ?mails)",
            rf"nicht mehr {_W}{{0,2}}(?:kontaktier|anschreib|angeschrieben|anruf|angerufen|beworben"
            r"|zusend|zuschick|erhalten|bekommen)\w*",
            rf"verarbeitung {_W}{{0,3}}(?:einstellen|beenden|unterlassen)",
        ),
        "es": (
            r"(?:me )?op(?:ongo|onerme|oner|onemos)",
            r"oposicion",
            r"(?:darme|darse|dame|denme|me den) de baja",
            r"(?:dar|den|de) de baja (?:de |del |mi )?(?:\w+ )?(?:suscripcion|boletin|newsletter|lista"
            r"|publicidad|comunicaciones)",
            r"(?:dejar|dejen|deje) de (?:\w+ )?(?:recibir|enviar|enviarme|mandarme|usar|utilizar|tratar"
            r"|contactar|contactarme|llamar|llamarme)",
            r"no (?:quiero|deseo) (?:seguir )?recibir (?:mas )?(?:\w+ )?(?:publicidad|correos|emails"
            r"|mensajes|llamadas|sms|comunicaciones|ofertas|promociones|newsletters?|boletin\w*)",
            r"no (?:me )?(?:envien|manden|contacten|llamen)",
            r"(?:revoc|retir)\w* (?:mi |el )?consentimiento",
            r"(?:cancelar|cancelen|cancelacion de) (?:la |mi )?suscripcion",
        ),
        "pt": (
            r"(?:me )?op(?:onho|or)",
            r"oposicao",
            r"descadastr\w*",
            r"(?:parar|parem|pare|deixar|deixem) de (?:\w+ )?(?:receber|enviar|mandar|usar|utilizar"
            r"|tratar|contatar|ligar)",
            r"nao (?:quero|desejo) (?:mais )?receber (?:mais )?(?:\w+ )?(?:propagandas?|publicidade"
            r"|e ?mails|mensagens|ligacoes|sms|comunicacoes|ofertas|promocoes|newsletters?)",
            r"nao (?:me )?(?:enviem|mandem|liguem|contatem)",
            rf"(?:revog|retir)\w* {_W}{{0,2}}consentimento",
            r"cancel\w* (?:a |minha )?(?:inscricao|assinatura da newsletter)",
        ),
        "nl": (
            r"bezwaar",
            r"afmelden",
            r"uitschrijven",
            rf"geen {_W}{{0,2}}(?:nieuwsbrie\w*|reclame|marketing|e ?mails)",
        ),
        "it": (r"opposizione", r"mi oppongo", r"oppor(?:si|mi)", r"disiscri\w*"),
    },
    "OPT_OUT_SALE": {
        "en": (
            r"(?:not|never|stop|cease|refrain from|dont) (?:to )?(?:sell|selling|share|sharing)",
            rf"(?:not|never) {_W}{{0,5}}(?:sold|shared)",
            rf"sale (?:or sharing )?of {_W}{{0,2}}(?:data|information|info|details)",
            r"(?:selling|sharing) (?:of )?(?:my|our) (?:\w+ )?(?:data|information|info|details)",
            rf"(?:sell|sells|selling) {_W}{{0,2}}(?:my|our) (?:\w+ )?(?:data|information|info|details)",
            r"opt(?:ing)? out(?! of (?:all |any |your |the )?(?:\w+ )?(?:marketing|newsletters?|e ?mails?"
            r"|communications|profiling|promotions|promotional|mailings?|calls)\b)",
            r"global privacy control",
            r"gpc",
            r"targeted (?:advertising|ads|advertisements)",
            r"cross context behaviou?ral",
        ),
        "fr": (
            r"(?:ne|n) (?:\w+ )?(?:re)?(?:vend|partag|ced|lou)\w*",
            rf"(?:vente|revente|cession|commercialisation|location) (?:de |des |d )?{_W}{{0,2}}"
            r"(?:donnees|informations)",
            r"(?:re)?vend(?:re|ez|ent|iez)",
        ),
        "de": (
            r"\w*verkauf(?:en|s)?",
            r"nicht an dritte weiter\w*",
            r"keine weitergabe",
        ),
        "es": (
            r"(?:no|dejen de|dejar de) (?:\w+ )?(?:vend|compart|ced)\w*",
            r"vend(?:an|er|iendo|en)",
            rf"(?:venta|cesion|comercializacion) (?:de )?{_W}{{0,2}}(?:datos|informacion)",
        ),
        "pt": (
            r"(?:nao|parem de|parar de|deixem de) (?:\w+ )?(?:vend|compartilh|repass|ced)\w*",
            r"vend(?:am|er|endo|em)",
            rf"venda (?:d[oa]s? |de ){_W}{{0,2}}(?:dados|informacoes)",
        ),
        "nl": (r"verko(?:op|pen)\w*",),
        "it": (r"vend(?:ere|ita|ete|iate)",),
    },
    "LIMIT_SENSITIVE": {
        "en": (
            rf"limit\w* {_W}{{0,6}}sensitive",
            r"right to limit",
            rf"(?:do not|not|stop) (?:use|using|disclose|disclosing|process|processing) {_W}{{0,2}}"
            r"sensitive",
        ),
        "fr": (rf"limit\w* {_W}{{0,6}}sensibles?",),
        "de": (rf"(?:einschrank|begrenz)\w* {_W}{{0,6}}sensibl\w*",),
        # California's Spanish notices say "información personal confidencial".
        "es": (rf"limit\w* {_W}{{0,6}}(?:sensibles?|confidencial\w*)",),
        "pt": (rf"limit\w* {_W}{{0,6}}sensive\w*",),
    },
    "WITHDRAW_CONSENT": {
        "en": (
            rf"(?:withdraw|withdrawing|withdrew|revoke|revoking|rescind|rescinding) {_W}{{0,3}}consent",
            r"consent (?:is |has been |to be )?(?:withdrawn|revoked|rescinded)",
            r"withdrawal of (?:my |our )?consent",
        ),
        "fr": (rf"(?:retir|revoqu|revoc)\w* {_W}{{0,3}}consentement",),
        "de": (rf"widerruf\w* {_W}{{0,3}}einwilligung", rf"einwilligung {_W}{{0,4}}widerruf\w*"),
        "es": (rf"(?:retir|revoc|revoqu)\w* {_W}{{0,3}}consentimiento",),
        "pt": (rf"(?:retir|revog|revogu)\w* {_W}{{0,3}}consentimento",),
        "nl": (rf"(?:trek|intrek)\w* {_W}{{0,3}}toestemming", rf"toestemming {_W}{{0,3}}in ?trekken"),
        "it": (rf"(?:revoc|ritir)\w* {_W}{{0,3}}consenso",),
    },
}

# Sale and sensitive-data phrases carry their own negation ("do not sell"): never negated.
_NEGATION_PROOF = frozenset({"OPT_OUT_SALE", "LIMIT_SENSITIVE"})

# Within one clause, the more specific type absorbs the general one.
_ABSORBS: dict[str, frozenset[str]] = {
    "OPT_OUT_SALE": frozenset({"OBJECTION"}),  # "I object to the sale of my data"
    "LIMIT_SENSITIVE": frozenset({"RESTRICTION"}),  # "restrict the use of my sensitive information"
    "PORTABILITY": frozenset({"ACCESS"}),  # "send me my data in a machine-readable format"
    "WITHDRAW_CONSENT": frozenset({"OBJECTION"}),  # "I withdraw my consent" is not a general objection
}

# A cue negates the next match if it stands within this many words before it.
_NEGATION_REACH = 6
_WINDOW_CHARS = 200  # enough for that many words; bounds the work on a very long clause

_NEGATION = re.compile(
    "|".join(
        (
            # English. "have not deleted", "not yet", "not only" are complaints or emphasis, not refusals.
            r"\b(?:never|nor|neither|without|rather than|instead of|no need|not necessary)\b",
            r"(?<!\bhave )(?<!\bhas )(?<!\bhad )(?<!\bdid )(?<!\bstill )\bnot\b(?! (?:yet|only|just)\b)",
            # English and Spanish "no"; not "no 12345", "no longer", "no han borrado", "aún no".
            r"\bno\b(?! (?:\d|longer\b|han\b|ha\b|he\b|hemos\b|hayan\b|haya\b|solo\b|solamente\b))"
            r"(?<!\baun no)(?<!\btodavia no)",
            r"\b(?:nunca|sin|tampoco|ni)\b|\ben (?:lugar|vez) de\b",
            # French: "ne"/"n'" but not "vous n'avez pas supprimé" nor "je ne veux que".
            r"\bne\b(?! \w+ qu)|\bn\b(?! (?:avez|a|ont|ai|avons|aviez|avait|avaient)\b)(?! \w+ qu)",
            r"\b(?:sans|jamais|plutot que|au lieu de)\b",
            # German: not "noch nicht gelöscht", "nicht nur".
            r"(?<!\bnoch )\bnicht\b(?! nur\b)|\bkein\w*|\b(?:nie|niemals|ohne|statt|anstatt)\b",
            # Portuguese: not "ainda não", "não foi", "não só".
            r"\bnao\b(?! (?:foi|foram|fizeram|tem|tenho|ha|so|apenas|somente|recebi)\b)(?<!\bainda nao)",
            r"\b(?:nem|sem)\b|\bem vez de\b|\bao inves de\b",
            # Dutch and Italian.
            r"(?<!\bnog )\bniet\b(?! alleen\b)|\b(?:geen|nooit|zonder)\b|\bin plaats van\b",
            r"\bnon\b(?! (?:avete|ha|hanno|ho|solo|soltanto)\b)(?<!\bancora non)|\b(?:senza|invece di)\b",
        )
    )
)
# German and Dutch may negate after the verb: "löschen Sie meine Daten nicht".
_TRAILING_NEGATION = re.compile(r"^(?: \w+){0,4}? (?:nicht|niet)\b(?! (?:nur|alleen)\b)")

# After a negated match, "or"/"nor" carries the negation on: "do not delete or erase anything".
_NEGATION_CARRIES = re.compile(r"^ *(?:or|nor|ou|oder|o|ni|nem|noch|of)? *$")


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(rf"\b(?:{p})\b" for p in patterns))


_MATCHERS: dict[str, re.Pattern[str]] = {
    kind: _compile(p for patterns in by_language.values() for p in patterns)
    for kind, by_language in _PHRASES.items()
}
assert set(_MATCHERS) == set(REQUEST_TYPES), "every request type needs phrases, and only those"

# ---------------------------------------------------------------------------------------------------
# Article citations: law -> article number -> type. Read per sentence; see `_cited_types`.
# ---------------------------------------------------------------------------------------------------
_GDPR = {
    15: "ACCESS",
    16: "RECTIFICATION",
    17: "ERASURE",
    18: "RESTRICTION",
    20: "PORTABILITY",
    21: "OBJECTION",
}
_ARTICLES: dict[str, dict[int, str]] = {
    "GDPR": _GDPR,
    # Spain's LOPDGDD restates the rights as arts. 13-18.
    "LOPDGDD": {
        13: "ACCESS",
        14: "RECTIFICATION",
        15: "ERASURE",
        16: "RESTRICTION",
        17: "PORTABILITY",
        18: "OBJECTION",
    },
    # Brazil's LGPD lists every right in art. 18; the inciso (roman numeral) says which (below).
    "LGPD": {},
}
_LGPD_ART_18 = {
    "i": "ACCESS",  # confirmação da existência de tratamento
    "ii": "ACCESS",  # acesso aos dados
    "iii": "RECTIFICATION",  # correção de dados incompletos, inexatos ou desatualizados
    "iv": "ERASURE",  # anonimização, bloqueio ou eliminação de dados desnecessários
    "v": "PORTABILITY",  # portabilidade
    "vi": "ERASURE",  # eliminação dos dados tratados com o consentimento
    "vii": "ACCESS",  # informação das entidades com as quais houve uso compartilhado
    "ix": "OBJECTION",  # revogação do consentimento
}
_CCPA_SECTIONS = {
    "100": "ACCESS",
    "110": "ACCESS",
    "115": "ACCESS",
    "105": "ERASURE",
    "106": "RECTIFICATION",
    "120": "OPT_OUT_SALE",
    "121": "LIMIT_SENSITIVE",
}
_LAWS = re.compile(
    r"\b(?:"
    r"(?P<GDPR>(?:uk |eu )?gdpr|(?:eu )?ds ?gvo|rgpd|avg|general data protection regulation"
    r"|datenschutz ?grundverordnung|reglement general sur la protection des donnees"
    r"|reglamento general de proteccion de datos|regulamento geral (?:sobre|de) (?:a )?protecao de dados"
    r"|regolamento generale (?:sulla|per la) protezione dei dati|2016 ?/ ?679)"
    r"|(?P<LOPDGDD>lopd ?gdd)"
    r"|(?P<LGPD>lgpd|lei geral de protecao de dados|13\.?709)"
    r")\b"
)
_CITATION = re.compile(
    r"\b(?:art|arts|articles?|artikels?|articulos?|artigos?|articol[oi])\s*(?P<number>\d{1,3})"
    r"(?P<more>(?:\s*(?:,|and|et|und|y|e|u|ed|en|&)\s*(?:art\s*)?\d{1,3}\b)*)"
    r"(?P<incisos>\s*,?\s*(?:inc(?:isos?)?\s*)?(?:[ivx]+)\b(?:\s*(?:,|e)\s*[ivx]+\b)*)?"
)
_CCPA_CITATION = re.compile(r"\b1798\s*\.\s*(\d{3})\b")
# How far after a citation its law may be named: "Art. 15 Abs. 3 der Datenschutz-Grundverordnung".
_LAW_REACH = 80

# ---------------------------------------------------------------------------------------------------
# Normalisation and splitting.
# ---------------------------------------------------------------------------------------------------
_ABBREVIATIONS = re.compile(
    r"\b(art|arts|abs|lit|inc|ziff|cf|vgl|bzw|ca|mr|mrs|ms|dr|sr|sra|srta|prof|sec|ref|tel|etc)\."
    r"|\b(no|nr|n)\.(?=\s*\d)"
)
_INITIALISMS = re.compile(r"\b([a-z])\.([a-z])\.")
# E-mail disclaimers and confidentiality footers: they say "delete" without meaning it.
_DISCLAIMER = re.compile(
    r"\b(?:"
    r"received (?:this|it|the) (?:\w+ ){0,2}(?:in error|by mistake|by error)|intended (?:\w+ ){0,3}"
    r"(?:recipient|addressee)|notify the sender|privileged and confidential|this (?:email|message"
    r"|communication) (?:and any attachments )?(?:is|are|may be) (?:strictly )?confidential"
    r"|(?:avez recu|recevez) ce (?:\w+ )?(?:message|courriel|email|mail) par erreur|intention exclusive"
    r"|(?:irrtumlich|falschlicherweise|versehentlich) erhalten|nicht der (?:richtige|beabsichtigte) "
    r"(?:adressat|empfanger)|vertrauliche und (?:oder )?rechtlich geschutzte"
    r"|(?:ha recibido|recibio) este (?:\w+ )?(?:mensaje|correo|email) por error"
    r"|(?:recebeu|receber) esta (?:\w+ )?(?:mensagem|email) por (?:engano|erro)"
    r")"
)
_SENTENCE_BREAK = re.compile(r"[.!?;:]+(?= |$)")
_CLAUSE_BREAK = re.compile(
    r",(?! ?(?:dass|that|que|qu|che|dat)\b)"
    r"|\b(?:and|but|also|however|additionally|furthermore|moreover|so|therefore|then|because"
    r"|et|aussi|egalement|cependant|donc|alors"
    r"|und|aber|sondern|sowie|ausserdem|zudem|jedoch|deshalb|daher|weil"
    r"|y|pero|sino|tambien|ademas|porque"
    r"|e|porem|tambem|entao|pois"
    r"|maar|ook|ed|anche|inoltre)\b"
)


def _normalise(raw_text: str) -> str:
    lines = [line for line in raw_text.splitlines() if not line.lstrip().startswith(">")]
    text = unicodedata.normalize("NFC", "\n".join(lines)).casefold()
    # Portuguese and Italian "é"/"è" (is) must not fold into "e" (and).
    text = re.sub(r"(?<!\w)[éè](?!\w)", "eh", text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = re.sub(r"[\u2018\u2019\u02bc\u00b4`]", "'", text)
    text = re.sub(r"\be-mail", "email", text)
    text = re.sub(r"\bcan't\b", "can not", text)
    text = re.sub(r"\bwon't\b", "will not", text)
    text = re.sub(r"(\w)n't\b", r"\1 not", text)
    text = _ABBREVIATIONS.sub(lambda m: m.group(1) or m.group(2), text)
    text = _INITIALISMS.sub(r"\1\2", text)
    text = re.sub(r"(?<=[a-z])/(?=[a-z])", " or ", text)
    text = re.sub(r"(?<=\w)-(?=\w)", " ", text)
    text = re.sub(r"[()\[\]{}\u2013\u2014\u2022*]| - ", ",", text)
    text = re.sub("['\"\u201c\u201d\u201e\u00ab\u00bb\u00bf\u00a1]", " ", text)
    text = re.sub(r"\n[ \t]*\n\s*", " . ", text)  # a blank line ends a sentence; one newline does not
    return re.sub(r"\s+", " ", text).strip()


def _sentences(text: str) -> list[str]:
    sentences = (s.strip() for s in _SENTENCE_BREAK.split(text))
    return [s for s in sentences if s and not _DISCLAIMER.search(s)]


def _clauses(sentence: str) -> list[str]:
    clauses = (c.strip() for c in _CLAUSE_BREAK.split(sentence))
    return [c for c in clauses if c]


# ---------------------------------------------------------------------------------------------------
# Matching.
# ---------------------------------------------------------------------------------------------------
def _negated(clause: str, start: int, end: int, since: int, until: int) -> bool:
    """Whether a negation cue in `clause[since:start]` (its last few words) or a trailing German/Dutch
    "nicht"/"niet" in `clause[end:until]` negates the match at `start:end`."""
    words = clause[max(since, start - _WINDOW_CHARS) : start].split()
    context = " ".join(words[-(_NEGATION_REACH + 1) :])  # one extra word for the cues' look-behinds
    reach_from = len(context) - len(" ".join(words[-_NEGATION_REACH:])) if words else 0
    if any(cue.start() >= reach_from for cue in _NEGATION.finditer(context)):
        return True
    return bool(_TRAILING_NEGATION.match(clause[end : min(until, end + _WINDOW_CHARS)]))


def _clause_types(clause: str) -> set[str]:
    matches = sorted(
        (m.start(), m.end(), kind) for kind, matcher in _MATCHERS.items() for m in matcher.finditer(clause)
    )
    starts = [start for start, _, _ in matches]
    ends = sorted(end for _, end, _ in matches)
    found: set[str] = set()
    previous_end, previous_negated = 0, False
    for start, end, kind in matches:
        # The text a cue may sit in runs from the end of the previous match to this one; a trailing
        # "nicht" may sit between this match and the next.
        before = bisect.bisect_right(ends, start)
        since = ends[before - 1] if before else 0
        after = bisect.bisect_left(starts, end)
        until = starts[after] if after < len(starts) else len(clause)
        if kind in _NEGATION_PROOF:
            negated = False
        elif previous_negated and since == previous_end and _NEGATION_CARRIES.match(clause[since:start]):
            negated = True
        else:
            negated = _negated(clause, start, end, since, until)
        if not negated:
            found.add(kind)
        previous_end, previous_negated = end, negated
    for kind, absorbed in _ABSORBS.items():
        if kind in found:
            found -= absorbed
    return found


def _laws_named(text: str) -> set[str]:
    return {m.lastgroup for m in _LAWS.finditer(text) if m.lastgroup}


def _cited_types(sentence: str, laws_in_text: set[str]) -> set[str]:
    found = {
        _CCPA_SECTIONS[m.group(1)] for m in _CCPA_CITATION.finditer(sentence) if m.group(1) in _CCPA_SECTIONS
    }
    laws = [(m.start(), m.end(), m.lastgroup) for m in _LAWS.finditer(sentence) if m.lastgroup]
    law_starts = [start for start, _, _ in laws]
    law_ends = [end for _, end, _ in laws]
    fallback = next(iter(laws_in_text)) if len(laws_in_text) == 1 else None
    for citation in _CITATION.finditer(sentence):
        # The law named right after the citation ("Art. 15 DSGVO"), else the last one named before it
        # in the sentence ("GDPR, Article 15"), else the only law the whole text names.
        after = bisect.bisect_left(law_starts, citation.end())
        before = bisect.bisect_right(law_ends, citation.start())
        if after < len(laws) and laws[after][0] <= citation.end() + _LAW_REACH:
            law: str | None = laws[after][2]
        elif before:
            law = laws[before - 1][2]
        else:
            law = fallback
        if law is None:
            continue
        numbers = [
            int(n) for n in re.findall(r"\d+", citation.group("number") + (citation.group("more") or ""))
        ]
        found.update(_ARTICLES[law][n] for n in numbers if n in _ARTICLES[law])
        if law == "LGPD" and numbers[0] == 18 and citation.group("incisos"):
            incisos = re.findall(r"\b[ivx]+\b", citation.group("incisos"))
            found.update(_LGPD_ART_18[i] for i in incisos if i in _LGPD_ART_18)
    return found


def infer_request_types(raw_text: str) -> list[str]:
    """The request types `raw_text` asks for, in `clocks.REQUEST_TYPES` order; `DEFAULT_TYPES` if none.

    See the module docstring for how the text is read and what it cannot read.
    """
    text = _normalise(raw_text)
    laws_in_text = _laws_named(text)
    found: set[str] = set()
    for sentence in _sentences(text):
        found |= _cited_types(sentence, laws_in_text)
        for clause in _clauses(sentence):
            found |= _clause_types(clause)
    return [kind for kind in REQUEST_TYPES if kind in found] or list(DEFAULT_TYPES)
