"""JSON perfplat does not control (queue bodies, published files), read strictly. Pure."""

from __future__ import annotations

import re
from typing import Any

# A string (to its closing quote, or to the end of an unclosed one), or a bracket: the regular expression
# skips strings in C, so a large file is scanned quickly.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


def nesting(text: str) -> int:
    """How deep arrays and objects nest, strings skipped: checked before parsing, so that input of 100,000
    '[' is refused rather than overflowing the parser's recursion."""
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def repeated_keys(pairs: list[tuple[str, Any]]) -> list[str]:
    """The keys an object gives more than once: Python's parser would silently keep the last."""
    keys = [key for key, _ in pairs]
    return sorted({key for key in keys if keys.count(key) > 1})
