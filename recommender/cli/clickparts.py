"""Typer's command and group classes as this CLI adjusts them: help that never cuts a long word
or an option's name, flags shown without a type, usage errors that name their command (so the
one-line message can say which -h to read), close spellings of options compared without their
dashes, and a hint for a command's own option given before the command (``_option_hint``)."""

from __future__ import annotations

from typer.core import TyperCommand, TyperGroup


class _FlagsTakeNoValue:
    """Help without a type after a flag: typer 0.29 shows `--dry-run <bool>`, as if it took one."""

    def get_params(self, ctx) -> list:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class _ErrorsNameTheirCommand:
    """A usage error raised without its command (click's parser: "Option '--valence' requires
    an argument") gets it, so that its message can say which command's -h to read."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except Exception as exc:
            if hasattr(exc, "ctx") and exc.ctx is None:
                exc.ctx = ctx
            if type(exc).__name__ == "NoSuchOption" and getattr(exc, "possibilities", None):
                exc.possibilities = _close_options(exc.option_name, exc.possibilities) or None
            raise


def _close_options(typed: str, offered: list[str]) -> list[str]:
    """Click's "did you mean" options, those still close without their dashes: click compares
    "--bogus" with "--verbose", whose shared "--" made them close ("did you mean --verbose?")."""
    from difflib import get_close_matches
    bare = {o.lstrip("-"): o for o in offered}
    return [bare[b] for b in get_close_matches(typed.lstrip("-"), list(bare))]


class _HelpKeepsLongWords:
    """A word of help text longer than its column (a setting's name, "tt-continuation-v1" at 60
    columns) goes on over the next line, rather than being cut short with an ellipsis; an
    option's name is never cut ("--install-completi…" at 60 columns): the help beside it wraps
    narrower instead."""

    def format_help(self, ctx, formatter):
        from rich.text import Text
        from typer import rich_utils
        make = getattr(rich_utils, "_make_rich_text", None)  # typer's own, private: help as typer
        table = getattr(rich_utils, "Table", None)             # prints it when a release drops it
        if make is None or table is None:
            return super().format_help(ctx, formatter)

        def folded(*args, **kwargs):
            text = make(*args, **kwargs)
            if isinstance(text, Text):
                text.overflow = "fold"
            return text

        class NamesWhole(table):
            def __rich_console__(self, console, options):
                # the columns of option names ("--config", "-c"; "" where a row has none): never
                # wrapped or cut, so that rich narrows the help column instead
                for column in self.columns[:-1]:
                    cells = list(column.cells)
                    if cells and all(isinstance(c, Text) and (not c.plain or c.plain.startswith("-")) for c in cells):
                        column.no_wrap = True
                return super().__rich_console__(console, options)
        rich_utils._make_rich_text, rich_utils.Table = folded, NamesWhole
        try:
            return super().format_help(ctx, formatter)
        finally:
            rich_utils._make_rich_text, rich_utils.Table = make, table


class _Command(_HelpKeepsLongWords, _ErrorsNameTheirCommand, _FlagsTakeNoValue, TyperCommand):
    pass


class _OptionsGoAfterTheCommand:
    """A hint when a command's own option is given before it: "no such option: --demo before
    the command; a command's own options go after it: `recommend moods recommend --demo`"
    (``_option_hint``), the root's and every group's (`recommend moods --demo recommend` said
    only "no such option", and `recommend moods --json recommend` that moods prints no JSON)."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        given = list(args)  # (click's parser takes words off the list it is given)
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except Exception as exc:  # click's NoSuchOption (typer vendors its own click)
            if type(exc).__name__ == "NoSuchOption" and isinstance(getattr(exc, "message", None), str):
                hint = _option_hint(self, given, exc.option_name, bool(getattr(exc, "possibilities", None)),
                                    ctx.command_path if ctx.parent is not None else "recommend")
                if hint:
                    exc.possibilities = None
                    exc.message += hint
                    exc.hinted = True  # (usage: not "prints no JSON" for a --json its command takes)
            raise


class _SubGroup(_HelpKeepsLongWords, _OptionsGoAfterTheCommand, _ErrorsNameTheirCommand, _FlagsTakeNoValue,
                TyperGroup):
    pass


def _option_hint(group, args: list[str], option: str, close_root: bool, prefix: str = "recommend") -> str:
    """What to add to "no such option: --x" for an option typed before the command: the command
    (of those typed) that has it, or its closest option of the command typed, or plainly that the
    command typed has none; "" for a typo of a common option click has a "did you mean" for.
    Every command word after the leading options may be the command (as its words: `moods
    recommend`): a word may be an option's value (`--playlist-name status build-playlist`)."""
    import difflib

    def has(command) -> bool:  # a group: one of its commands
        subs = getattr(command, "commands", None)
        return any(map(has, subs.values())) if subs is not None else any(option in p.opts + p.secondary_opts
                                                                          for p in command.params)
    takes_value = {o for p in group.params if not (p.is_flag or p.count) for o in p.opts + p.secondary_opts}
    typed, skip = [], False  # (where its first word is, its words, the command)
    for at, arg in enumerate(args):
        if skip or arg.startswith("-"):
            skip = not skip and arg in takes_value
        elif arg in group.commands:
            words, command = [arg], group.commands[arg]
            for later in args[at + 1:]:
                if later not in (getattr(command, "commands", None) or {}):
                    break
                words, command = [*words, later], command.commands[later]
            typed.append((at, " ".join(words), command))
    having = [(name, command) for _, name, command in typed if has(command)]
    after = args.index(option) + 1 if option in args else -1
    # an option's value is no command when another command was typed (`--playlist-name status build-playlist`)
    meant = having or [(n, c) for at, n, c in typed if at != after] or [(n, c) for _, n, c in typed]
    name, command = meant[0] if meant else ("COMMAND", None)
    chosen = next((at for at, n, c in typed if (n, c) == (name, command)), -1)  # (where its word is)
    group_of = getattr(command, "commands", None) is not None  # `--mood happy moods`: the group's commands
    if close_root and not having:
        return ""  # a typo of a common option (`--verbos refresh`): click's "did you mean --verbose?"
    if having or not meant:
        return (" before the command; a command's own options go after it: "
                f"`{prefix} {name}{' COMMAND' if group_of else ''} {_as_typed(option, args, command, chosen)}`")
    if group_of:
        return f", and no command of `{prefix} {name}` has it"
    # a typo only (--top-m for --top-n), not another option sharing a word (--new-playlist for --playlist-name)
    close = difflib.get_close_matches(option, [o for p in command.params for o in p.opts + p.secondary_opts
                                               if o.startswith("--")], n=1, cutoff=0.8)
    return f", and `{prefix} {name}` has no {option} either" + (
        f"; did you mean `{prefix} {name} {close[0]}`?" if close else "")


def _as_typed(option: str, args: list[str], command, chosen: int) -> str:
    """``option`` with the value it was typed with, for the hint to copy: `--rows=3`, `-n3` and `--rows 3`
    (an option of ``command``, or of a command of that group, that takes a value, followed by a
    word other than the command's own, at ``chosen``) give `--rows 3` (the hint said `--rows`,
    its value dropped); a flag, or an option whose value is missing, stays alone. The value is
    quoted for the shell (`--seed-playlist 'My Mix'`)."""
    import shlex

    def params(command) -> list:
        subs = getattr(command, "commands", None)
        return [p for c in subs.values() for p in params(c)] if subs is not None else list(getattr(command, "params", []))
    for at, arg in enumerate(args):
        if arg.startswith(option + "="):
            return f"{option} {shlex.quote(arg[len(option) + 1:])}"
        if len(option) == 2 and arg.startswith(option) and len(arg) > 2:  # a short option's joined value: -n3
            return f"{option} {shlex.quote(arg[2:])}"
        if arg == option:
            takes = [p for p in params(command) if option in p.opts + p.secondary_opts and not (p.is_flag or p.count)]
            if takes and at + 1 < len(args) and at + 1 != chosen:
                return f"{option} {shlex.quote(args[at + 1])}"
            return option
    return option
