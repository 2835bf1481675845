"""Click's own usage errors (a bad value, a missing argument, an unknown option or command, an
extra argument) as the house's one-line ``UsageError`` (exit 2), for the CLI to print like any
other error: ``error: --valence must be a number from 0 to 1, got 'nan' (see `recommend moods
recommend -h`)``. Typer would print several lines in a box instead.

Works on the exception's attributes (its parameter, its message), whichever click raised it
(typer's vendored copy or click itself); anything not recognised keeps click's message, made one
line.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..errors import UsageError


# Commands people type that are another's name here (typer's "did you mean" finds only close
# spellings: 'stauts' -> 'status', never 'login' -> 'auth'): the command line each means
SYNONYMS = {
    **dict.fromkeys(("login", "log-in", "logon", "log-on", "signin", "sign-in", "authorize", "authorise",
                     "authenticate"), "auth"),
    **dict.fromkeys(("logout", "log-out", "logoff", "log-off", "signout", "sign-out"), "auth --logout"),
    **dict.fromkeys(("build", "run", "generate", "make"), "build-playlist"),
    **dict.fromkeys(("runs", "history", "info"), "status"),
    "cron": "schedule install",
    "version": "--version",
}


def synonym_hint(name: str) -> str | None:
    """'did you mean `recommend auth`?' for a command typed by another name (``SYNONYMS``:
    any case, ``_`` for ``-``), else None."""
    meant = SYNONYMS.get(name.strip().lower().replace("_", "-"))
    return f"did you mean `recommend {meant}`?" if meant else None


def usage_error(exc: BaseException) -> UsageError:
    """The one-line error for a click exception, ending with the command's ``-h``."""
    ctx = getattr(exc, "ctx", None)
    said = _one_line(_message(exc, ctx))
    if ctx is not None and getattr(ctx, "command_path", None):
        said += f" (see `{ctx.command_path} -h`)"
    return UsageError(said)


def _message(exc: BaseException, ctx: Any) -> str:
    kind = {c.__name__ for c in type(exc).__mro__}
    param = getattr(exc, "param", None)
    message = str(getattr(exc, "message", "") or exc)
    if "MissingParameter" in kind and param is not None:
        return _missing(param)
    if "BadParameter" in kind and param is not None:
        return _bad_value(exc, param, message)
    if "NoSuchOption" in kind:
        if getattr(exc, "option_name", None) == "--json" and getattr(ctx, "command_path", None) and \
                not getattr(exc, "hinted", False):  # (a group's: "goes after the command", `_option_hint`)
            return f"`{ctx.command_path}` prints no JSON: leave out --json"  # as `recommend --json auth` says
        said = _first_lower(message)
        close = sorted(getattr(exc, "possibilities", None) or ())
        return said + (f"; did you mean {' or '.join(close)}?" if close else "")
    if "BadOptionUsage" in kind and "requires" in message and getattr(exc, "option_name", None):
        return f"{exc.option_name} needs a value"
    extra = re.fullmatch(r"Got unexpected extra arguments?(?:\(s\))? \((.*)\)", message)
    if extra:
        return _extra(extra.group(1), ctx)
    return re.sub(r"\. ([A-Z])(?=[a-z ])", lambda m: "; " + m.group(1).lower(), _first_lower(message))


def _missing(param: Any) -> str:
    if getattr(param, "param_type_name", "") == "argument":
        what = f"the {param.name} argument"
        helped = getattr(param, "help", None)
        return f"missing {what}" + (f": {_first_lower(helped)}" if helped else "")
    return f"missing the option {_names(param)}"


def _bad_value(exc: BaseException, param: Any, message: str) -> str:
    where = _names(param)
    if message == "needs a file name":  # cli._file_to_write's word of an empty name: "--report needs a file name, got ''"
        return f"{where} needs a file name, got ''"
    value = _given(exc)
    got = f", got {value!r}" if value is not None else ""
    rule = _number_rule(param)
    if rule is not None:
        return f"{where} must be {rule}{got}"
    said = _first_lower(message)
    if value is not None and repr(value) not in said and str(value) not in said:
        said += got
    return f"{where}: {said}"


def _names(param: Any) -> str:
    """'--limit/-n' for an option, its name for an argument."""
    opts = list(getattr(param, "opts", None) or ()) + list(getattr(param, "secondary_opts", None) or ())
    if getattr(param, "param_type_name", "") == "option" and opts:
        return "/".join(opts)
    return str(getattr(param, "name", None) or "a value")


def _given(exc: BaseException) -> Any:
    """The value as typed, when the exception knows it (typer's pydantic check keeps it)."""
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if callable(errors):
        try:
            found = errors()
        except Exception:  # noqa: BLE001 - a library's internals: no value is better than a crash
            return None
        if found and isinstance(found[0], dict) and "input" in found[0]:
            return found[0]["input"]
    return None


def _number_rule(param: Any) -> str | None:
    """'a number from 0 to 1', 'a whole number of at least 1': what a numeric option takes.
    NaN and infinity are no number from 0 to 1 (the check said "less than or equal to 1")."""
    desc = getattr(param, "type_descriptor", None)  # typer >= 0.2x: the annotation and its bounds
    if desc is not None:
        info = getattr(desc, "parameter_info", None)
        kind, low, high = getattr(desc, "annotation", None), getattr(info, "min", None), getattr(info, "max", None)
    else:  # click's IntRange / FloatRange / INT / FLOAT
        ptype = getattr(param, "type", None)
        kind = {"integer": int, "integer range": int, "float": float, "float range": float}.get(
            str(getattr(ptype, "name", "")))
        low, high = getattr(ptype, "min", None), getattr(ptype, "max", None)
    if kind not in (int, float):
        return None
    noun = "a whole number" if kind is int else "a number"
    show = _bound if kind is float else (lambda x: str(int(x)))
    if low is not None and high is not None:
        return f"{noun} from {show(low)} to {show(high)}"
    if low is not None:
        return f"{noun} of at least {show(low)}"
    if high is not None:
        return f"{noun} of at most {show(high)}"
    return noun if kind is int else "a finite number"


def _bound(x: float) -> str:
    return f"{x:g}" if math.isfinite(x) else str(x)


def _extra(args: str, ctx: Any) -> str:
    plural = "s" if " " in args.strip() else ""
    said = f"unexpected extra argument{plural}: {args}"
    params = getattr(getattr(ctx, "command", None), "params", None) or ()
    texts = [p.name for p in params if getattr(p, "param_type_name", "") == "argument" and getattr(p, "nargs", 1) == 1]
    if texts:
        said += f"; the {texts[0]} is one argument: quote it if it has spaces"
    return said


def _first_lower(text: str) -> str:
    text = text.strip()
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text.rstrip(".")


def _one_line(text: str) -> str:
    return " ".join(text.split())
