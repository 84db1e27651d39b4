"""Infer request types from the subject's own words (English, German, French, Spanish, Portuguese).

Deliberately plain: lower-cased, accent-folded phrase matching. A request the rules cannot place is an
access request (the most common kind, and the one every law covers); the API says the types were inferred.
"""

from __future__ import annotations

import re
import unicodedata

_RULES: dict[str, tuple[str, ...]] = {
    "OPT_OUT_SALE": (
        "do not sell",
        "don't sell",
        "dont sell",
        "opt out",
        "opt-out",
        "stop selling",
        "sale of my",
        "selling my",
        "share my personal information",
        "do not share",
        "nicht verkaufen",
        "verkauf meiner",
        "ne vendez pas",
        "ne pas vendre",
        "no vendan",
        "no vender",
        "nao vendam",
        "nao vender",
    ),
    "LIMIT_SENSITIVE": (
        "limit the use of my sensitive",
        "limit use of my sensitive",
        "sensitive personal information",
        "limit sensitive",
    ),
    "ERASURE": (
        "delete",
        "deletion",
        "erase",
        "erasure",
        "remove my",
        "right to be forgotten",
        "forget me",
        "close my account and remove",
        "loschen",
        "loschung",
        "vergessen",
        "supprimer",
        "suppression",
        "effacer",
        "effacement",
        "oubli",
        "borrar",
        "borren",
        "supresion",
        "suprimir",
        "eliminar",
        "olvido",
        "apagar",
        "apaguem",
        "exclusao",
        "excluir",
        "eliminacao",
    ),
    "RECTIFICATION": (
        "correct",
        "rectif",
        "update my",
        "inaccurate",
        "wrong address",
        "fix my",
        "berichtig",
        "korrigier",
        "corriger",
        "rectifier",
        "corregir",
        "rectificar",
        "corrigir",
        "retificar",
        "retificacao",
    ),
    "PORTABILITY": (
        "portab",
        "machine-readable",
        "machine readable",
        "transfer my data",
        "port my data",
        "ubertragbar",
        "datenubertragbarkeit",
        "portabilite",
        "portabilidad",
        "portabilidade",
    ),
    "RESTRICTION": (
        "restrict",
        "restriction",
        "einschrank",
        "limitation du traitement",
        "limiter le traitement",
        "limitacion",
        "limitar el tratamiento",
        "limitacao",
        "bloqueio",
    ),
    "OBJECTION": (
        "object to",
        "objection",
        "stop processing",
        "stop using my",
        "unsubscribe",
        "widerspruch",
        "widersprech",
        "m'oppose",
        "opposition",
        "oponerme",
        "oposicion",
        "me oponho",
        "oposicao",
    ),
    "ACCESS": (
        "copy of",
        "access",
        "what data",
        "what personal",
        "what information",
        "subject access",
        "dsar",
        "all personal data you hold",
        "auskunft",
        "kopie",
        "welche daten",
        "acces",
        "copie",
        "quelles donnees",
        "acceso",
        "copia",
        "que datos",
        "acesso",
        "quais dados",
    ),
}

_PATTERNS = {
    kind: re.compile(r"(?<![a-z])(?:" + "|".join(re.escape(p) for p in phrases) + r")")
    for kind, phrases in _RULES.items()
}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ß", "ss")


def infer_request_types(raw_text: str) -> list[str]:
    folded = _fold(raw_text)
    found = [kind for kind, pattern in _PATTERNS.items() if pattern.search(folded)]
    return found or ["ACCESS"]
