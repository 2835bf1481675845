"""Editing the user's YAML config file in place: comments, order and other keys survive.

Used by ``recommend tune --write`` (blend weights) and ``recommend schedule install``
(settings a scheduled run would otherwise not see). The file keeps its permissions.
"""

from __future__ import annotations

import difflib
import io
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config import SECRET_KEYS
from .errors import ConfigError
from .store import atomic_write_text

_SECRET_LINE = re.compile(r"^([ +-]\s*(?:%s)\s*:).*$" % "|".join(sorted({k.rsplit(".", 1)[1] for k in SECRET_KEYS})),
                          re.MULTILINE)


def _yaml():
    from ruamel.yaml import YAML

    y = YAML()  # round-trip: comments, order and quoting survive
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def set_values(path: Path | str, values: Mapping[str, Any]) -> str:
    """Set each dotted key of ``values`` in the YAML file ``path`` (created when missing),
    leaving every other key and comment as it was. A callable value is called with the old
    value (None when absent) and its result stored. Returns the unified diff ('' if none), with
    the values of secrets (client secret, ListenBrainz token) shown as ***: the diff is printed.
    A file with Windows line endings or a byte-order mark keeps them; a symlink stays one (its
    target is written)."""
    from ruamel.yaml.comments import CommentedMap

    path = Path(path)
    original = ""
    if path.exists():
        with open(path, encoding="utf-8", newline="") as f:  # newline="": see the \r\n to keep them
            original = f.read()
    bom = "\ufeff" if original.startswith("\ufeff") else ""
    crlf = "\r\n" in original
    before = original.removeprefix(bom).replace("\r\n", "\n")
    y = _yaml()
    try:
        data = y.load(before) if before.strip() else None
    except Exception as exc:  # ruamel raises many YAMLError subclasses
        raise ConfigError(f"{path}: cannot parse YAML ({type(exc).__name__})") from None
    kept = ""
    if data is None:  # a new file, or one of comments only (a commented-out template): keep them
        data, kept = CommentedMap(), before.rstrip("\n") + "\n" if before.strip() else ""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    secrets = _secret_values(data)
    for dotted, value in values.items():
        *parents, last = dotted.split(".")
        node = data
        for depth, part in enumerate(parents):
            child = node.get(part)
            if child is None:
                child = node[part] = CommentedMap()
            if not isinstance(child, dict):
                raise ConfigError(f"{path}: {'.'.join(parents[:depth + 1])} must be a mapping")
            node = child
        node[last] = value(node.get(last)) if callable(value) else value
    buf = io.StringIO()
    y.dump(data, buf)
    after = kept + buf.getvalue()
    if after != before:  # through a symlink (dotfiles) to its target: the new file replaced the link
        target = Path(os.path.realpath(path)) if path.is_symlink() else path
        atomic_write_text(target, bom + (after.replace("\n", "\r\n") if crlf else after))
    diff = "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=str(path), tofile=str(path)))
    for secret in sorted(set(secrets + _secret_values(data)), key=len, reverse=True):
        diff = diff.replace(secret, "***")
    return _SECRET_LINE.sub(lambda m: m.group(1) + " ***", diff)


def _secret_values(data: Any) -> list[str]:
    """The texts of the secrets set in a parsed config file, of 4 characters or more as the log
    redacts them (a secret "1" would turn every 1 of the diff into ***; its own line is masked
    by its key)."""
    out = []
    for dotted in SECRET_KEYS:
        node = data
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None and len(str(node).strip()) >= 4:
            out.append(str(node).strip())
    return out
