"""Editing the user's YAML config file in place: comments, order and other keys survive.

Used by ``recommend tune --write`` (blend weights) and ``recommend schedule install``
(settings a scheduled run would otherwise not see). The file keeps its permissions, and a
config file that is a symbolic link (dotfiles kept in a repository) stays one: the file it
points to is the one written.
"""

from __future__ import annotations

import difflib
import io
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .config import SECRET_KEYS
from .errors import ConfigError, StorageError
from .safetext import hide_url_passwords
from .store import atomic_write_text
from .wording import and_list

_SECRET_LINE = re.compile(r"^([ +-]\s*(?:%s)\s*:).*$" % "|".join(sorted({k.rsplit(".", 1)[1] for k in SECRET_KEYS})),
                          re.MULTILINE)


def _refuse_a_special_file(path: Path | str, target: Path) -> None:
    """`--config /dev/null` reads as an empty config; written "atomically", the device itself
    would be replaced by a file (as root), or the folder /dev be blamed."""
    if target.exists() and not target.is_file():
        raise StorageError(f"cannot write {path}: it is no regular file (a device, a pipe or a folder); "
                           "give a config file to write to (--config FILE); nothing was changed")


def check_writable(path: Path | str) -> None:
    """Raise the ``StorageError`` a write of ``path`` would end with (exit 7, naming the file),
    before a long computation whose result is to be written there: a read-only file, or a
    folder (the nearest one that exists, for a file still to be made) this process cannot
    write in. Follows a symbolic link, as ``set_values`` does."""
    target = Path(os.path.realpath(path))
    _refuse_a_special_file(path, target)
    if target.exists() and not os.access(target, os.W_OK):
        mode = target.stat().st_mode & 0o7777
        reason = (READ_ONLY_DISK if _on_a_read_only_disk(target)
                  else f"the file is read-only (mode {mode:04o}); make it writable (chmod u+w)"
                  if not mode & stat.S_IWUSR else "permission denied (check the file's owner and permissions)")
        raise StorageError(f"cannot write {path}: {reason}; nothing was changed")
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        reason = READ_ONLY_DISK if _on_a_read_only_disk(folder) else f"the folder {folder} is not writable (check its permissions)"
        raise StorageError(f"cannot write {path}: {reason}; nothing was changed")


READ_ONLY_DISK = "the file system is read-only (make it writable, or give a config file on another disk with --config)"


def _on_a_read_only_disk(path: Path) -> bool:
    """Is ``path`` on a file system mounted read-only? Its permissions then are no reason: the
    advice to check them (or to chmod) sent a user after the wrong thing."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # (no statvfs on Windows)
        return False


def _yaml(indent: int = 2):
    from ruamel.yaml import YAML

    y = YAML()  # round-trip: comments, order and quoting survive
    y.Representer = _representer()
    y.preserve_quotes = True
    y.width = 2**30  # a long text was wrapped at 80 columns when the file was written anew
    y.indent(mapping=indent, sequence=indent + 2, offset=indent)
    return y


def _representer():
    """ruamel's round-trip representer, but a text holding U+0085 (NEL) is written double-quoted
    (``\\N``): single-quoted or plain, YAML reads it as a line break and folds it to a space (a
    blocked artist "Band\\x85Name" was written as "Band Name", which blocks no one)."""
    from ruamel.yaml.representer import RoundTripRepresenter

    class Representer(RoundTripRepresenter):
        def represent_str(self, data):
            if "\x85" in data:
                return self.represent_scalar("tag:yaml.org,2002:str", data, style='"')
            return super().represent_str(data)
    Representer.add_representer(str, Representer.represent_str)
    return Representer


def _indent_of(text: str) -> int:
    """The mapping indent a YAML file uses (the fewest leading spaces of a nested key; 2 when
    none is nested): a file written with 4 was written back with 2, every line changed."""
    steps = [len(line) - len(line.lstrip(" ")) for line in text.splitlines()
             if line.strip() and not line.lstrip().startswith(("#", "- ")) and line.startswith(" ")]
    return min(steps) if steps and 1 < min(steps) <= 8 else 2


def _scalar_text(value: Any, old: str) -> str | None:
    """How ``value`` is written in place of the scalar written ``old`` (its quotes kept for a
    string), or None for a value not written on one line."""
    import json
    if isinstance(value, str) and old[:1] == '"':
        return json.dumps(value, ensure_ascii=False)  # (a JSON string is a YAML double-quoted one)
    if isinstance(value, str) and old[:1] == "'":
        return "'" + value.replace("'", "''") + "'"
    buf = io.StringIO()
    _yaml().dump({"k": value}, buf)
    text = buf.getvalue()
    if not text.startswith("k: ") or text.count("\n") != 1:
        return None
    return text[3:].rstrip("\n")


# a YAML double-quoted scalar (backslash escapes) or single-quoted one ('' for a quote)
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'')


def _scalar_end(line: str, start: int) -> int | None:
    """Where the scalar written from ``start`` of ``line`` ends (before a comment), or None
    for one that does not end on that line or is not a plain or quoted scalar."""
    rest = line[start:]
    if not rest or rest[0] in "|>&*!{[":
        return None
    if rest[0] in "\"'":
        m = _QUOTED.match(rest)
        return start + m.end() if m else None
    m = re.search(r"\s#", rest)
    return start + len((rest[:m.start()] if m else rest).rstrip())


def _edited_in_place(before: str, edits: list[tuple[Any, str, Any, Any]]) -> str | None:
    """``before`` with each edit's scalar replaced on its own line, every other character kept
    (indentation, spacing, comments), or None when an edit is not such a replace (a new key, a
    key taken out, a mapping, a block or flow value): ``edits`` are (mapping, key, old value,
    new value) of keys the file already sets."""
    lines = before.split("\n")
    changes: dict[int, list[tuple[int, int, str]]] = {}
    for node, key, old, value in edits:
        if isinstance(old, (dict, list)) or isinstance(value, (dict, list)):
            return None
        flow = getattr(getattr(node, "fa", None), "flow_style", lambda: True)
        if flow():  # "{weight: 0.1}": its scalars end at a comma or brace
            return None
        try:
            (kline, _), (vline, vcol) = node.lc.key(key), node.lc.value(key)
        except (AttributeError, KeyError, TypeError):
            return None
        if kline != vline or vline >= len(lines):
            return None
        end = _scalar_end(lines[vline], vcol)
        text = None if end is None else _scalar_text(value, lines[vline][vcol:end])
        if text is None:
            return None
        changes.setdefault(vline, []).append((vcol, end, text))
    for n, spans in changes.items():
        for start, end, text in sorted(spans, reverse=True):
            lines[n] = lines[n][:start] + text + lines[n][end:]
    return "\n".join(lines)


def _dumped(data: Any, before: str) -> str:
    """``data`` written out as ruamel writes it, in the indentation of the file ``before``."""
    buf = io.StringIO()
    _yaml(_indent_of(before)).dump(data, buf)
    return buf.getvalue()


def _spliced(before: str, again: str, after: str) -> str | None:
    """``before`` with the changes from ``again`` (``before`` parsed and written out unchanged)
    to ``after`` (written out with the changes) made to it, every other line as the file has
    it: writing the file anew redid lines no change touched (a list's indentation, a long text
    wrapped at 80 columns, `---` and `%YAML` taken out). None when a change falls on a line the
    writing redid, or the result does not read as ``after`` does: then ``after`` it is."""
    from difflib import SequenceMatcher
    old, redone, new = before.splitlines(True), again.splitlines(True), after.splitlines(True)
    same: dict[int, int] = {}  # a line of `again` -> the same line of the file
    for block in SequenceMatcher(None, redone, old, autojunk=False).get_matching_blocks():
        same.update({block.a + k: block.b + k for k in range(block.size)})
    out = list(old)
    for tag, i1, i2, j1, j2 in reversed(SequenceMatcher(None, redone, new, autojunk=False).get_opcodes()):
        if tag == "equal":
            continue
        if tag == "insert":  # right after the line before it, else right before the line after it,
            # else at the end: after a last line the writing redid (`contact: null` written `contact:`)
            start = end = same[i1 - 1] + 1 if i1 - 1 in same else same.get(i1, len(out) if i1 == len(redone) else -1)
            if start == len(out) and out and not out[-1].endswith("\n"):
                out[-1] += "\n"
        else:  # lines taken out or replaced: each one the file has as written, one after the other
            start, end = same.get(i1, -1), same.get(i2 - 1, -2) + 1
            if end - start != i2 - i1 or any(i not in same for i in range(i1, i2)):
                return None
        if start < 0:  # the change touches a line the writing redid
            return None
        out[start:end] = new[j1:j2]
    text = "".join(out)
    try:
        if _yaml().load(text) != _yaml().load(after):
            return None
    except Exception:  # (ruamel's many errors)
        return None
    return text


def _read_as_text(value: Any) -> Any:
    """``value``, quoted when it is text the reader (PyYAML, YAML 1.1) would read written plain
    as something else: `client_id: off` written from SPOTIPY_CLIENT_ID=off was the reader's false,
    and every command then refused the file (ruamel writes YAML 1.2, where it is text)."""
    import yaml
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, ScalarString

    from .config import _UniqueKeyLoader
    if not isinstance(value, str) or isinstance(value, ScalarString):
        return value
    try:
        plain = yaml.load(value, Loader=_UniqueKeyLoader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError:
        return value  # (ruamel quotes what cannot be written plain)
    return value if plain == value else DoubleQuotedScalarString(value)


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


DELETE = _Delete()  # a value for ``set_values``: take the key out of the file (the default applies again)


def _lines(text: str) -> list[str]:
    """``text``'s lines, each with its ending: split at \\n alone, as the file's lines are counted."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def _endings_kept(original: str, before: str, after: str) -> str:
    """``after`` (LF) with the line endings of the file ``original`` (``before`` is it in LF):
    each line the write kept ends as it did, a new one as most of the file's lines do. A file
    with both kinds (edited on two systems) became all Windows endings."""
    if "\r\n" not in original:
        return after
    raw, old, new = _lines(original), _lines(before), _lines(after)
    ending = "\r\n" if 2 * sum(line.endswith("\r\n") for line in raw) >= len(raw) else "\n"
    out = [line.removesuffix("\n") + ending if line.endswith("\n") else line for line in new]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            out[j1:j2] = raw[i1:i2]
        elif tag == "replace" and i2 - i1 == j2 - j1:  # lines changed one for one: each ends as it did
            out[j1:j2] = [line.removesuffix("\n") + raw[i][len(old[i]) - 1:] if line.endswith("\n") else line
                          for i, line in zip(range(i1, i2), new[j1:j2])]
    return "".join(out)


def _load(path: Path) -> tuple[Path, str, str, str, Any, str]:
    """(the file written: a symbolic link's target, its byte-order mark, its text as read
    (without the mark), that text with LF line endings, the parsed mapping or None for a file of
    comments only or none, the comments-only text to keep)."""
    target = Path(os.path.realpath(path))  # through a symbolic link: the link is kept, its file written
    _refuse_a_special_file(path, target)
    original = ""
    if target.exists():
        with open(target, encoding="utf-8", newline="") as f:  # newline="": see the \r\n to keep them
            original = f.read()
    bom = "\ufeff" if original.startswith("\ufeff") else ""
    original = original.removeprefix(bom)
    before = original.replace("\r\n", "\n")
    try:
        data = _yaml().load(before) if before.strip() else None
    except Exception as exc:  # ruamel raises many YAMLError subclasses (the reader, PyYAML, refuses most first)
        mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{where} cannot parse YAML ({problem or type(exc).__name__}); "
                          "nothing was changed") from None
    kept = ""
    if data is None:  # a new file, or one of comments only (a commented-out template): keep them,
        # not a null document's `~` or `null` and its `---` and `...` (the sections written after
        # them were a second document, or a mapping under a value: every command then refused the file)
        comments = "\n".join(line for line in before.split("\n") if not line.strip() or line.lstrip().startswith("#"))
        kept = comments.rstrip("\n") + "\n" if comments.strip() else ""
    elif not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    return target, bom, original, before, data, kept


def get_values(path: Path | str, keys: Iterable[str]) -> dict[str, Any]:
    """The value of each dotted key of ``keys`` as the YAML file ``path`` sets it (None where it
    does not: the default applies)."""
    data = _load(Path(path))[4]
    return {dotted: _value(data, dotted) for dotted in keys}


def _value(data: Any, dotted: str) -> Any:
    """The value a parsed config file sets for a dotted key, None where it sets none."""
    node = data
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def written_empty(path: Path | str, keys: Iterable[str]) -> list[str]:
    """The sections holding the dotted ``keys`` (`scorers`, `scorers.content` for
    `scorers.content.weight`) that the file ``path`` writes with nothing in them (`scorers:   #
    tuned by tune`), for ``set_values``' ``keep_empty``."""
    data = _load(Path(path))[4] if Path(path).is_file() else None
    out = []
    for dotted in sorted({".".join(k.split(".")[:i]) for k in keys for i in range(1, k.count(".") + 1)}):
        *parents, last = dotted.split(".")
        node = _value(data, ".".join(parents)) if parents else data
        if isinstance(node, dict) and last in node and node[last] is None:
            out.append(dotted)
    return out


def set_values(path: Path | str, values: Mapping[str, Any], keep_empty: Iterable[str] = ()) -> str:
    """Set each dotted key of ``values`` in the YAML file ``path`` (created when missing),
    leaving every other key and comment as it was. A callable value is called with the old
    value (None when absent) and its result stored; ``DELETE`` takes the key out (and a section
    left empty by that, but for the dotted sections of ``keep_empty``: written empty). Returns
    the unified diff ('' if none), with the values of secrets (client secret, ListenBrainz token) and a URL's
    password shown as ***: the diff is printed.
    A file with Windows line endings or a byte-order mark keeps them; a symlink stays one (its
    target is written)."""
    from ruamel.yaml.comments import CommentedMap

    path = Path(path)
    target, bom, original, before, data, kept = _load(path)
    if data is None:
        data = CommentedMap()
    secrets = _secret_values(data)
    places = _places(data)
    merged = _merged_into(data)
    in_place: list[tuple[Any, str, Any, Any]] = []  # (mapping, key, old, new): of keys the file sets
    reshaped = False  # a key added or taken out
    # the comment lines after a mapping's last line, taken off it as a key is added after that line
    # or that line is taken out, and given back after all the changes (where to: a function giving
    # the (mapping, key) of the line they then follow, None for the file's last; the lines)
    following: list[tuple[Callable[[], tuple[Any, Any] | None], str]] = []
    for dotted, value in values.items():
        *parents, last = dotted.split(".")
        node, trail = data, []
        for depth, part in enumerate(parents):
            child = node.get(part)
            if child is None:
                if value is DELETE:
                    break
                following.append((_after_add(node, data), _take_following(node)))
                child = node[part] = CommentedMap()
            if not isinstance(child, dict):
                raise ConfigError(f"{path}: {'.'.join(parents[:depth + 1])} must be a mapping")
            shared = places.get(id(child), [])
            if len(shared) > 1:  # an anchor and its aliases: one mapping, written under every name
                here = ".".join(parents[:depth + 1])
                raise ConfigError(f"{path}: {here} is the same YAML mapping as {and_list(p for p in shared if p != here)} "
                                  f"(an anchor & and an alias *): changing {dotted} would change them all; "
                                  "write each out in full, then run this again; nothing was changed")
            trail.append((node, part))
            node = child
        else:
            also = [p for p in _inheritors(merged, node, last) if values.get(f"{p}.{last}", DELETE) is DELETE]
            if also:  # `year: {<<: *content}`: year's weight was content's, and changed with it unsaid
                one = len(also) == 1
                raise ConfigError(f"{path}: {and_list(also)} {'takes its' if one else 'take their'} {last} from "
                                  f"{'.'.join(parents)} (<<: *anchor): changing {dotted} would change "
                                  f"{'it' if one else 'them'} too; write {last} in {'it itself' if one else 'each of them'}, "
                                  "then run this again; nothing was changed")
            if value is not DELETE:
                new = _read_as_text(value(node.get(last)) if callable(value) else value)
                if last in node:
                    in_place.append((node, last, node[last], new))
                else:
                    reshaped = True
                if last not in node:
                    following.append((_after_add(node, data), _take_following(node)))
                node[last] = new
            elif last in node:
                reshaped = True
                if last == next(reversed(node)):
                    following.append((_after_removal([*trail, (node, last)]), _take_following(node)))
                del node[last]
                for depth, (parent, part) in reversed(list(enumerate(trail))):  # a section left empty goes too
                    if parent[part]:
                        break
                    if ".".join(parents[:depth + 1]) in keep_empty:
                        parent[part] = None
                        break
                    del parent[part]
    for where, lines in following:
        _give_following(where() or _last_line(data), lines)
    after = _text_after(data, before, kept, in_place, reshaped)
    if after != before:
        atomic_write_text(target, bom + _endings_kept(original, before, after), chosen=True)
    diff = "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=str(path), tofile=str(path)))
    for secret in sorted(set(secrets + _secret_values(data)), key=len, reverse=True):
        diff = diff.replace(secret, "***")
    return hide_url_passwords(_SECRET_LINE.sub(lambda m: m.group(1) + " ***", diff))  # (a service address's too)


def _text_after(data: Any, before: str, kept: str, in_place: list[tuple[Any, str, Any, Any]], reshaped: bool) -> str:
    """The file's new text, from ``data`` as ``set_values`` changed it (``before``: the text as
    it was; ``kept``: what ``_load`` kept of it unparsed). Values the file already sets, each a
    scalar on its key's line (``in_place``): those characters alone change (a file's own spacing
    and comment columns stay); keys added or taken out (``reshaped``): those lines alone
    (``_spliced``); else the file is written anew from its parse, in its own indentation
    (comments and order kept)."""
    if not data:  # every key taken out: the file's comments stay, not a "{}"
        comments = "".join(line for line in before.splitlines(keepends=True) if line.lstrip().startswith("#"))
        return comments.rstrip("\n") + "\n" if comments.strip() else ""
    edited = None if kept else _edited_in_place(before, in_place)
    if edited is not None and not reshaped:
        return edited
    after = kept + _dumped(data, before)
    # from the file with its values edited in place, else (a value in an anchor, or on a line
    # of its own) from the file as it was: its lines the writing redid stay as written
    base = None if kept else edited if edited is not None else before
    if base is not None and base.strip():
        after = _spliced(base, _dumped(_yaml().load(base), base), after) or after
    return after


def _last_line(node: Any) -> tuple[Any, Any] | None:
    """(mapping, key) of a block mapping's last line (its last key, or that key's own last line
    when its value is a block mapping too): ruamel keeps the comment and blank lines that follow
    a mapping on that key. None for an empty mapping."""
    from ruamel.yaml.comments import CommentedMap
    while isinstance(node, CommentedMap) and len(node):
        key = next(reversed(node))
        child = node[key]
        if not (isinstance(child, CommentedMap) and len(child) and child.fa.flow_style() is not True):
            return node, key
        node = child
    return None


def _after_add(node: Any, data: Any) -> Callable[[], tuple[Any, Any] | None]:
    """Where the comment lines taken off ``node``'s last line, as a key is added after it, go
    back (``_give_following``): after ``node``'s new last line, or, when its old one was the
    file's last, after the file's (a `# vim: set ft=yaml` at the end stood above a section the
    same write added after it)."""
    at, end = _last_line(node), _last_line(data)
    last = at is not None and end is not None and at[0] is end[0] and at[1] == end[1]
    return lambda: _last_line(data if last else node)


def _after_removal(chain: list[tuple[Any, Any]]) -> Callable[[], tuple[Any, Any] | None]:
    """Where the comment lines after a key taken out go back: ``chain`` is each (mapping, key)
    from the file's top down to that key. After the nearest of its sections still there, else
    after the line before the outermost section the removal emptied: a comment above the next
    section went to the end of the file with a whole section taken out (`tune --undo`)."""
    before = [_key_before(mapping, key) for mapping, key in chain]  # (read before the removal)

    def where() -> tuple[Any, Any] | None:
        for (mapping, key), prev in zip(reversed(chain), reversed(before)):
            for k in (key, prev):
                if k is not None and k in mapping:
                    value = mapping[k]  # a block mapping's last line, else the key's own (a value, {a flow})
                    block = getattr(value, "fa", None) is not None and value.fa.flow_style() is not True
                    return (_last_line(value) if block else None) or (mapping, k)
        return None
    return where


def _key_before(mapping: Any, key: Any) -> Any:
    """The key before ``key`` in ``mapping``, None for its first."""
    keys = list(mapping)
    at = keys.index(key)
    return keys[at - 1] if at else None


def _take_following(node: Any) -> str:
    """Take off (and return) the comment and blank lines after ``node``'s last line, keeping a
    comment on that line itself: a key added after it went in below them ("# --- playlist ---"
    above `playlist:` then stood over the new key), and a last key taken out took them along."""
    at = _last_line(node)
    comment = at[0].ca.items.get(at[1]) if at else None
    token = comment[2] if comment and len(comment) > 2 else None
    if token is None or "\n" not in token.value[:-1]:
        return ""
    own, rest = token.value.split("\n", 1)
    token.value = own + "\n"
    return rest


def _give_following(at: tuple[Any, Any] | None, lines: str) -> None:
    """Put ``lines`` (from ``_take_following``) after the line of ``at`` (mapping, key)."""
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken
    if not lines or at is None:
        return
    comment = at[0].ca.items.setdefault(at[1], [None, None, None, None])
    while len(comment) < 3:
        comment.append(None)
    if comment[2] is None:
        comment[2] = CommentToken("\n" + lines, CommentMark(0), None)
    else:
        comment[2].value = comment[2].value.rstrip("\n") + "\n" + lines


def _places(data: Any, where: str = "", out: dict[int, list[str]] | None = None) -> dict[int, list[str]]:
    """Every dotted place of each mapping of the file, by the mapping's id: more than one for a
    mapping an alias repeats (``year: *w`` after ``content: &w``)."""
    out = {} if out is None else out
    if isinstance(data, dict):
        for key, child in data.items():
            if isinstance(child, dict):
                place = f"{where}.{key}" if where else str(key)
                seen = id(child) in out
                out.setdefault(id(child), []).append(place)
                if not seen:  # an alias of a mapping above it would go round for ever
                    _places(child, place, out)
    return out


def _merged_into(data: Any, where: str = "", out: dict[int, list[tuple[str, Any]]] | None = None,
                 seen: set[int] | None = None) -> dict[int, list[tuple[str, Any]]]:
    """The mappings each mapping of the file is merged into (``year: {<<: *content}``), by the
    merged mapping's id: (the place of the one merging it, that mapping)."""
    out, seen = ({} if out is None else out), (set() if seen is None else seen)
    if isinstance(data, dict) and id(data) not in seen:
        seen.add(id(data))
        for key, child in data.items():
            if isinstance(child, dict):
                place = f"{where}.{key}" if where else str(key)
                for source in getattr(child, "merge", None) or ():
                    out.setdefault(id(source), []).append((place, child))
                _merged_into(child, place, out, seen)
    return out


def _inheritors(merged: dict[int, list[tuple[str, Any]]], node: Any, key: str) -> list[str]:
    """The places whose ``key`` is ``node``'s through a merge (they do not set it themselves)."""
    out = []
    for place, mapping in merged.get(id(node), []):
        if key not in getattr(mapping, "_ok", mapping):
            out += [place, *_inheritors(merged, mapping, key)]
    return out


def _secret_values(data: Any) -> list[str]:
    """The texts of the secrets set in a parsed config file, of 4 characters or more as the log
    redacts them (a secret "1" would turn every 1 of the diff into ***; its own line is masked
    by its key)."""
    values = (_value(data, dotted) for dotted in SECRET_KEYS)
    return [str(v).strip() for v in values if v is not None and len(str(v).strip()) >= 4]
