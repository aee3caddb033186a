"""The command-line reference, docs/cli.md, generated from the Typer app.

    python -m plantrail.api.cli.reference > docs/cli.md

The Click command tree behind ``plantrail.api.cli.main:app`` is walked in declaration order and
written as Markdown: each command's usage line, help text, arguments and options with type,
default and help. The text depends on nothing but the app: no terminal width, no Rich markup,
and defaults that come from the environment (the home directory, the working directory, an
environment variable) are shown by name, so the file is the same on every machine.
tests/docs/test_cli_reference.py fails when docs/cli.md is not current.

Typer 0.2x vendors its own copy of Click (``typer._click``) while older releases use Click
itself; only the attributes the two share are read, so the Click objects are typed ``Any``.
"""

from __future__ import annotations

import enum
import inspect
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import typer
import typer.main

REGENERATE = "python -m plantrail.api.cli.reference > docs/cli.md"
"""The command that rewrites docs/cli.md; quoted at the top of the file and by its test."""

_NONE = "—"


@dataclass(frozen=True)
class CommandEntry:
    """One node of the command tree: ``path`` is the words after ``plantrail``."""

    path: tuple[str, ...]
    command: Any
    context: Any

    @property
    def is_group(self) -> bool:
        return _is_group(self.command)

    @property
    def full_name(self) -> str:
        return str(self.context.command_path)


def load_app() -> typer.Typer:
    """The ``plantrail`` app with every command registered, as ``plantrail`` runs it."""
    from plantrail.api.cli.app import app
    from plantrail.api.cli.main import register

    register()  # the command modules add themselves on import
    return app


def walk(app: typer.Typer) -> list[CommandEntry]:
    """Every visible command and group of ``app``, the root first, in declaration order."""
    root = typer.main.get_command(app)
    name = str(root.name or app.info.name or "plantrail")
    return list(_walk(root, (), root.context_class(root, info_name=name)))


def command_paths(app: typer.Typer) -> list[tuple[str, ...]]:
    """The commands one can run (groups left out), e.g. ``("users", "add")``."""
    return [entry.path for entry in walk(app) if not entry.is_group]


def _is_group(command: Any) -> bool:
    return hasattr(command, "commands") and hasattr(command, "list_commands")


def _walk(command: Any, path: tuple[str, ...], context: Any) -> Iterator[CommandEntry]:
    yield CommandEntry(path, command, context)
    if not _is_group(command):
        return
    for name in command.list_commands(context):
        sub = command.get_command(context, name)
        if sub is None or sub.hidden:
            continue
        yield from _walk(sub, (*path, name), sub.context_class(sub, info_name=name, parent=context))


# --- text ---------------------------------------------------------------------------------------


def _help_paragraphs(text: str | None) -> list[str]:
    """Click's help text as Markdown paragraphs: lines of a paragraph joined, ``\\f`` ends the
    help, a ``\\b`` paragraph is kept verbatim (as a code block)."""
    if not text:
        return []
    text = inspect.cleandoc(text).split("\f", 1)[0]
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        if lines and lines[0].strip() == "\b":
            out.append("```text\n" + "\n".join(lines[1:]) + "\n```")
        elif lines:
            out.append(_inline(" ".join(line.strip() for line in lines)))
    return out


def _inline(text: str) -> str:
    """Prose that Markdown shows as written: ``<keys>`` is not an HTML tag, ``*`` no emphasis;
    code spans are left alone."""
    parts = re.split(r"(`+[^`]*`+)", " ".join(text.split()))
    return "".join(
        part if part.startswith("`") else re.sub(r"([\\<*])", r"\\\1", part) for part in parts
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|") if text else _NONE


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _summary(command: Any) -> str:
    paragraphs = _help_paragraphs(command.short_help or command.help)
    text = paragraphs[0] if paragraphs and not paragraphs[0].startswith("```") else ""
    if command.deprecated:
        text = f"{text} (deprecated)".strip()
    return text


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading of plain words."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


# --- parameters -----------------------------------------------------------------------------


def _is_argument(param: Any) -> bool:
    return str(getattr(param, "param_type_name", "")) == "argument"


def _argument_name(param: Any, context: Any) -> str:
    """The argument as the usage line spells it, without its brackets: ``plan``, ``FROM``."""
    piece = " ".join(param.get_usage_pieces(context))
    return piece.strip("[]{}").removesuffix("...").strip("[]{}")


def _option_names(param: Any) -> str:
    names = ", ".join(_code(name) for name in param.opts)
    if param.secondary_opts:
        names += " / " + ", ".join(_code(name) for name in param.secondary_opts)
    return names


def _range(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f"at least {low}"
    if high is not None:
        return f"at most {high}"
    return ""


def _type(param: Any, context: Any) -> str:
    """``str``, ``int`` with its range, ``path``, ``a|b`` for choices; ``flag`` for a switch."""
    if getattr(param, "count", False):
        return "count"
    if getattr(param, "is_flag", False):
        return "flag"
    click_type = getattr(param, "type", None)
    if hasattr(param, "display_type"):  # Typer 0.2x
        label = str(param.display_type(context)).strip("<>")
        low, high = getattr(param, "min", None), getattr(param, "max", None)
    else:  # Click's ParamType
        choices = getattr(click_type, "choices", None)
        label = "|".join(map(str, choices)) if choices else str(getattr(click_type, "name", "text"))
        low, high = getattr(click_type, "min", None), getattr(click_type, "max", None)
    label = label.removesuffix(" range")
    if getattr(param, "multiple", False):
        label = label.removeprefix("list[").removesuffix("]") + ", repeatable"
    elif param.nargs != 1:
        label = f"{label} × {param.nargs}" if param.nargs > 1 else f"{label}, any number"
    limits = _range(low, high)
    return f"{label} ({limits})" if limits else label


def _stable(text: str) -> str:
    """A default as it reads on every machine: the home and working directories by name."""
    for path, name in ((Path.cwd(), "."), (Path.home(), "~")):
        spelled = str(path)
        if len(path.parts) > 1 and spelled in text:
            text = text.replace(spelled, name)
    return text


def _value(value: Any) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, PurePath):
        return _stable(value.as_posix())
    if isinstance(value, list | tuple):
        return ", ".join(_value(item) for item in value)
    return _stable(str(value))


def _envvar(param: Any, context: Any) -> str:
    envvar = param.envvar
    if envvar is None and not _is_argument(param):
        prefix = getattr(context, "auto_envvar_prefix", None)
        if prefix and getattr(param, "allow_from_autoenv", False) and param.name:
            envvar = f"{prefix}_{param.name.upper()}"
    if envvar is None:
        return ""
    names = [envvar] if isinstance(envvar, str) else list(envvar)
    return " or ".join(_code(f"${name}") for name in names)


def _default(param: Any, context: Any) -> str:
    """``required``; the default; ``$VAR`` when an environment variable stands in for it."""
    if param.required:
        return "required"
    from_env = _envvar(param, context)
    shown = getattr(param, "show_default", None)
    if isinstance(shown, str):  # the command's own words for a default it computes
        value = _inline(_stable(shown))
    else:
        default = param.get_default(context, call=False)
        if callable(default):
            value = "computed when run"
        elif default is None or (isinstance(default, list | tuple) and not default):
            value = ""
        else:
            value = _code(_value(default))
    if from_env and value:
        return f"{from_env}, else {value}"
    return from_env or value


def _table(rows: list[tuple[str, str, str, str]], first: str) -> list[str]:
    lines = [f"| {first} | Type | Default | Description |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def _parameters(command: Any, context: Any) -> list[str]:
    arguments: list[tuple[str, str, str, str]] = []
    options: list[tuple[str, str, str, str]] = []
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        described = _inline(str(getattr(param, "help", None) or ""))
        if _is_argument(param):
            name = _code(_argument_name(param, context))
            arguments.append((name, _type(param, context), _default(param, context), described))
        elif param.opts:
            row = (_option_names(param), _type(param, context), _default(param, context), described)
            options.append(row)
    out: list[str] = []
    if arguments:
        out += ["", *_table(arguments, "Argument")]
    if options:
        out += ["", *_table(options, "Option")]
    return out


# --- the document -------------------------------------------------------------------------------


def _usage(entry: CommandEntry) -> str:
    pieces = entry.command.collect_usage_pieces(entry.context)
    return " ".join([entry.full_name, *pieces])


def _section(entry: CommandEntry) -> list[str]:
    level = "#" * min(len(entry.path) + 1, 6)
    out = ["", f"{level} {entry.full_name}", ""]
    if entry.command.deprecated:
        out += ["*Deprecated.*", ""]
    out += ["```text", _usage(entry), "```"]
    for paragraph in _help_paragraphs(entry.command.help):
        out += ["", paragraph]
    if entry.is_group:
        subs = [f"`{name}`" for name in entry.command.list_commands(entry.context)]
        out += ["", "Commands: " + ", ".join(subs) + "."]
    out += _parameters(entry.command, entry.context)
    for paragraph in _help_paragraphs(entry.command.epilog):
        out += ["", paragraph]
    return out


def reference_markdown(app: typer.Typer) -> str:
    """docs/cli.md for ``app``: the same text for the same app on every machine."""
    entries = walk(app)
    root, commands = entries[0], entries[1:]
    runnable = [entry for entry in commands if not entry.is_group]
    out = [
        f"<!-- Generated from plantrail.api.cli.main:app, do not edit: {REGENERATE} -->",
        "",
        f"# {root.full_name} command-line reference",
        "",
        f"Generated from the command-line app itself; regenerate it with `{REGENERATE}`."
        " `tests/docs/test_cli_reference.py` fails while it is not current. The README's section"
        ' "The command line" lists the same commands, one line each.',
        "",
        f"There are {len(runnable)} commands. Each also takes `--help`. A default shown as `$NAME`"
        " is read from the environment variable `NAME` when the option is not given. In a usage"
        " line, braces mark a required argument and square brackets an optional one.",
        "",
        "```text",
        _usage(root),
        "```",
    ]
    for paragraph in _help_paragraphs(root.command.help):
        out += ["", paragraph]
    out += ["", "| Command | What it does |", "|---|---|"]
    for entry in commands:
        link = f"[`{entry.full_name}`](#{_anchor(entry.full_name)})"
        out.append(f"| {link} | {_cell(_summary(entry.command))} |")
    out += _parameters(root.command, root.context)
    for entry in commands:
        out += _section(entry)
    return "\n".join(out) + "\n"


def main() -> None:
    """Print docs/cli.md: UTF-8 and ``\\n`` line ends whatever the locale or platform."""
    sys.stdout.flush()
    sys.stdout.buffer.write(reference_markdown(load_app()).encode("utf-8"))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
