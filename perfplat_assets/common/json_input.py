"""JSON perfplat does not control (queue bodies, published files), read strictly. Pure."""

from __future__ import annotations

from typing import Any


def repeated_keys(pairs: list[tuple[str, Any]]) -> list[str]:
    """The keys an object gives more than once: Python's parser would silently keep the last."""
    keys = [key for key, _ in pairs]
    return sorted({key for key in keys if keys.count(key) > 1})
