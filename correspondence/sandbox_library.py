"""The only tags and filters a message template may use (the sandbox's builtins, `engine.SandboxEngine`).

`if`/`elif`/`else` for optional paragraphs, and filters that format text. No `load`, `include`,
`extends`, `url`, `now`, `debug`, no `safe`/`safeseq`/`escapejs` (officer text stays escaped in HTML).
"""

from __future__ import annotations

from django.template import Library, defaultfilters, defaulttags

register = Library()

register.tag("if", defaulttags.do_if)

ALLOWED_FILTERS = (
    "capfirst",
    "default",
    "default_if_none",
    "linebreaksbr",
    "lower",
    "title",
    "truncatechars",
    "truncatewords",
    "upper",
    "wordwrap",
    "yesno",
)
for _name in ALLOWED_FILTERS:
    register.filter(_name, getattr(defaultfilters, _name))
