"""Comment-preserving edits of the user's YAML config from `recommend web` (as `tune --write`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..configfile import set_values as edit_config


def set_value(path: Path, dotted: str, value: Any) -> str:
    """Set one key (e.g. ``candidates.new_share``); returns the unified diff."""
    return edit_config(path, {dotted: lambda old: value})


def add_to_list(path: Path, dotted: str, item: str) -> str:
    """Append ``item`` to a list key unless it is there already (case-insensitive)."""
    def change(old):
        items = list(old or [])
        if not any(str(x).casefold() == item.casefold() for x in items):
            items.append(item)
        return items
    return edit_config(path, {dotted: change})
