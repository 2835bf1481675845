"""Comment-preserving edits of the user's YAML config from `recommend web` (as `tune --write`)."""

from __future__ import annotations

from pathlib import Path

from ..configfile import set_values as edit_config


def add_to_list(path: Path, dotted: str, item: str) -> str:
    """Append ``item`` to a list key unless it is there already (case-insensitive)."""
    def change(old):
        items = list(old or [])
        if not any(str(x).casefold() == item.casefold() for x in items):
            items.append(item)
        return items
    return edit_config(path, {dotted: change})


def remove_from_list(path: Path, dotted: str, item: str) -> tuple[str, bool]:
    """Take ``item`` out of a list key (case-insensitive, as ``add_to_list`` compares); returns
    the diff and whether the list held it. A list left empty stays, empty."""
    held = False

    def change(old):
        nonlocal held
        items = list(old or [])
        kept = [x for x in items if str(x).casefold() != item.casefold()]
        held = len(kept) < len(items)
        return kept
    return edit_config(path, {dotted: change}), held
