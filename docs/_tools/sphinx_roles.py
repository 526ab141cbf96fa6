"""A Griffe extension: dynsession's docstrings cross-reference with Sphinx roles; render them as links.

``:class:`~dynsession.SessionStore``` becomes a link titled ``SessionStore`` to that object's entry in
the API reference, and ``:meth:`prepare``` one to the method of the class it is written in. A target
the reference does not show (a private module) stays plain code instead of failing the build.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

_ROLE = re.compile(r":(?:class|func|meth|attr|data|exc|mod|obj):`(?P<short>~)?(?P<target>[\w.]+)`")


def _identifier(obj: Object, target: str) -> str:
    """The full dotted path a role's target names, as seen from the object whose docstring holds it."""
    if "." in target:
        return target
    scopes = [obj, *([obj.parent] if obj.parent is not None else []), obj.module]
    for scope in scopes:
        if target in scope.members:
            return f"{scope.path}.{target}"
    return target


def render_roles(obj: Object, text: str) -> str:
    """``text`` with every Sphinx role replaced by an optional autorefs cross-reference."""

    def link(match: re.Match[str]) -> str:
        target = match["target"]
        title = target.rsplit(".", 1)[-1] if match["short"] else target
        return f'<autoref identifier="{_identifier(obj, target)}" optional><code>{title}</code></autoref>'

    return _ROLE.sub(link, text)


class SphinxRoles(Extension):
    """Rewrites the Sphinx roles in every docstring once the object tree is complete."""

    def on_object(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None and not obj.is_alias:
            obj.docstring.value = render_roles(obj, obj.docstring.value)
