"""Comment-preserving edits of the user's YAML config from `recommend web` (like `tune --write`)."""

from __future__ import annotations

import difflib
import io
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..store import atomic_write_text


def _yaml():
    from ruamel.yaml import YAML
    y = YAML()  # round-trip: comments, order and quoting survive (the same options as tune.write_weights)
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _edit(path: Path, dotted: str, change) -> str:
    from ruamel.yaml.comments import CommentedMap
    path = Path(path)
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    y = _yaml()
    try:
        data = y.load(before) if before.strip() else None
    except Exception as exc:  # ruamel raises many YAMLError subclasses
        raise ConfigError(f"{path}: cannot parse YAML ({type(exc).__name__})") from None
    if data is None:
        data = CommentedMap()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    *parents, last = dotted.split(".")
    node = data
    for i, key in enumerate(parents):
        if node.get(key) is None:
            node[key] = CommentedMap()
        node = node[key]
        if not isinstance(node, dict):
            raise ConfigError(f"{path}: {'.'.join(parents[:i + 1])} must be a mapping")
    node[last] = change(node.get(last))
    buf = io.StringIO()
    y.dump(data, buf)
    after = buf.getvalue()
    if after != before:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, after)
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=str(path), tofile=str(path)))


def set_value(path: Path, dotted: str, value: Any) -> str:
    """Set one key (e.g. ``candidates.new_share``); returns the unified diff."""
    return _edit(path, dotted, lambda old: value)


def add_to_list(path: Path, dotted: str, item: str) -> str:
    """Append ``item`` to a list key unless it is there already (case-insensitive)."""
    def change(old):
        items = list(old or [])
        if not any(str(x).casefold() == item.casefold() for x in items):
            items.append(item)
        return items
    return _edit(path, dotted, change)
