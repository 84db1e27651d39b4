"""The template sandbox: a Django template engine that can only fill in plain-text variables.

- Builtins are `correspondence.sandbox_library` alone: `if` and a few formatting filters. Any other tag
  (`load`, `include`, `extends`, ...) fails to compile, so it is refused when the template is saved.
- Variables are names from `VARIABLES`, never a path: `{{ request.requestor.email }}` walks attributes
  and is refused at save, as is a name the product does not provide.
- The context holds strings only (`context.message_context`): there is no object to walk even if a
  check were missed.
- HTML bodies are rendered with autoescape, so officer text (`reasons`, `extraText`, ...) is escaped;
  subjects lose CR/LF, so a template or a variable cannot add a mail header.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar, cast

from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import FilterExpression, Node, NodeList, VariableNode
from django.template.defaulttags import IfNode, TemplateLiteral

from .sandbox_library import ALLOWED_FILTERS

MAX_TEMPLATE_BYTES = 64 * 1024

# Every variable a template may use, with what it holds (the admin's editor lists them).
VARIABLES: dict[str, str] = {
    "orgName": "The organisation's name.",
    "requestRef": "The request's reference (its id).",
    "requestorName": "The requestor's name, if known.",
    "receivedDate": "The date the request was received (local to the law).",
    "requestTypes": "What was asked for, in words.",
    "law": "The law the request is answered under.",
    "dueDate": "The date the answer is due.",
    "newDueDate": "The new due date after an extension.",
    "expectedBy": "When the subject can expect the answer.",
    "reasons": "The reasons the officer gave (for a refusal, an extension or an appeal decision).",
    "regulatorName": "The regulator the subject may complain to.",
    "regulatorUrl": "The regulator's web address.",
    "judicialRemedy": "The subject's right to a judicial remedy, as the law states it.",
    "appealInstructions": "How to appeal the decision.",
    "appealDeadline": "The date by which an appeal should reach the organisation.",
    "verificationProcess": "How the subject's identity will be verified.",
    "clarification": "What the officer asks the subject to clarify.",
    "outcome": "The outcome of the request or of the appeal, in words.",
    "extraText": "Further text the officer added to this message (a custom message's body).",
    "subjectLine": "The subject an officer wrote for a custom message.",
    "code": "A one-time verification code (verification and download messages only).",
    "link": "A one-time link (verification link and delivery messages only).",
    "expiresAt": "When the code or link stops working.",
    "bundleSize": "The size of the data bundle.",
    "bundleSha256": "The SHA-256 checksum of the data bundle.",
}

# Legal elements (clocks.NOTICE_ELEMENTS) → the variables, any one of which shows the element.
ELEMENT_VARIABLES: dict[str, tuple[str, ...]] = {
    "reasons": ("reasons",),
    "regulator": ("regulatorName",),
    "judicialRemedy": ("judicialRemedy",),
    "appealInstructions": ("appealInstructions",),
    "appealDeadline": ("appealDeadline",),
    "newDueDate": ("newDueDate",),
    "verificationProcess": ("verificationProcess",),
    "expectedBy": ("expectedBy", "dueDate"),
}


class TemplateRefused(ValueError):
    """A template the sandbox will not run; `field` names the part (subject, bodyText, bodyHtml)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class SandboxEngine(Engine):
    # Django's default builtins (every tag and filter, `load` and `include` among them) are left out.
    default_builtins: ClassVar[list[str]] = []


def _engine(*, autoescape: bool) -> SandboxEngine:
    return SandboxEngine(
        dirs=[],
        app_dirs=False,
        loaders=[("django.template.loaders.locmem.Loader", {})],
        libraries={},
        builtins=["correspondence.sandbox_library"],
        string_if_invalid="",
        debug=False,
        autoescape=autoescape,
    )


_TEXT = _engine(autoescape=False)
_HTML = _engine(autoescape=True)


@dataclass(frozen=True)
class Parts:
    subject: str
    body_text: str
    body_html: str = ""


def _expressions(nodelist: NodeList | list[Node]) -> Iterator[FilterExpression]:
    for node in nodelist:
        if isinstance(node, VariableNode):
            yield node.filter_expression
        elif isinstance(node, IfNode):
            for condition, nodes in node.conditions_nodelists:
                if condition is not None:
                    yield from _condition(condition)
                yield from _expressions(nodes)


def _condition(condition: object) -> Iterator[FilterExpression]:
    if isinstance(condition, TemplateLiteral):
        yield cast(FilterExpression, condition.value)
        return
    for part in ("first", "second"):
        sub = getattr(condition, part, None)
        if sub is not None:
            yield from _condition(sub)


def _names(expression: FilterExpression) -> Iterator[tuple[str, ...]]:
    """The variable paths an expression reads: its own and its filters' arguments (literals read none)."""
    variables = [expression.var, *(arg for _f, args in expression.filters for _is_var, arg in args)]
    for variable in variables:
        lookups = getattr(variable, "lookups", None)
        if lookups:
            yield tuple(lookups)


def check_part(field: str, source: str, *, html_part: bool = False) -> set[str]:
    """Compile one part in the sandbox; the variables it uses. TemplateRefused for anything else."""
    if len(source.encode()) > MAX_TEMPLATE_BYTES:
        raise TemplateRefused(field, f"Longer than {MAX_TEMPLATE_BYTES // 1024} KB.")
    if "\x00" in source:
        raise TemplateRefused(field, "Contains a NUL character.")
    if field == "subject" and ("\r" in source or "\n" in source):
        raise TemplateRefused(field, "A subject is one line: no line breaks.")
    try:
        template = (_HTML if html_part else _TEXT).from_string(source)
    except TemplateSyntaxError as error:
        why = str(error).replace(" Did you forget to register or load this tag?", "")
        raise TemplateRefused(
            field,
            f"{why} Templates may use only {{% if %}}/{{% elif %}}/{{% else %}} and the filters "
            f"{', '.join(ALLOWED_FILTERS)}.",
        ) from None
    used: set[str] = set()
    for expression in _expressions(template.nodelist):
        for path in _names(expression):
            name = path[0]
            if len(path) > 1:
                raise TemplateRefused(
                    field,
                    f"'{'.'.join(path)}': variables are plain names; attributes and items cannot be read.",
                )
            if name not in VARIABLES:
                raise TemplateRefused(
                    field, f"Unknown variable '{name}'; the variables are {', '.join(sorted(VARIABLES))}."
                )
            used.add(name)
    return used


def check_template(*, subject: str, body_text: str, body_html: str = "") -> set[str]:
    """Every part compiled and checked; the variables the template uses."""
    used = check_part("subject", subject)
    used |= check_part("bodyText", body_text)
    if body_html:
        used |= check_part("bodyHtml", body_html, html_part=True)
    return used


def elements_shown(used: set[str]) -> set[str]:
    """The legal elements a template whose variables are `used` carries."""
    return {element for element, names in ELEMENT_VARIABLES.items() if used & set(names)}


def render(*, subject: str, body_text: str, body_html: str, context: Mapping[str, str]) -> Parts:
    """Render a checked template with a context of strings. Without an HTML part, the HTML alternative is
    the text, escaped, in paragraphs."""
    plain = {name: str(context.get(name, "")) for name in VARIABLES}
    rendered_subject: str = _TEXT.from_string(subject).render(Context(plain, autoescape=False))
    rendered_subject = " ".join(rendered_subject.split())[:998]
    text: str = _TEXT.from_string(body_text).render(Context(plain, autoescape=False)).strip() + "\n"
    markup: str = _HTML.from_string(body_html).render(Context(plain)) if body_html else text_to_html(text)
    return Parts(subject=rendered_subject, body_text=text, body_html=markup)


def text_to_html(text: str) -> str:
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    body = "\n".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return (
        '<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;'
        f'color:#1f2933;max-width:40em">\n{body}\n</body></html>\n'
    )
