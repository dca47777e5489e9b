"""A path that reaches a URL rule, for tests that walk every route: ids that name nothing (999999), the first word
of an `any(...)`, and a word for any other part, so that the view runs its access check and then finds nothing."""

from __future__ import annotations

import re

_PART = re.compile(r"<(?:(\w+)(\([^)]*\))?:)?(\w+)>")


def _fill(match) -> str:
    converter, arguments = match.group(1), match.group(2)
    if converter == "int":
        return "999999"
    if converter == "any":
        return arguments.strip("()").split(",")[0].strip()
    return "nothing"


def sample_path(rule) -> str:
    return _PART.sub(_fill, rule.rule)
