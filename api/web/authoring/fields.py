"""How a form is described, read and turned into a command's data.

A form is a list of fields named by the command's own field paths (``measure.target``,
``assessments.0.status``), so that a refusal from the command path, which names the field at
fault by that path, lands next to the field that was typed without any mapping table."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from plantrail.domain.plan import PlanState

Kind = Literal[
    "text", "textarea", "date", "number", "select", "checkbox", "lines", "multi", "hidden"
]

Options = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Field:
    """One input: ``name`` is the command's field path; ``lines``: one list entry per line;
    ``multi``: checkboxes of a list (``options``)."""

    name: str
    label: str
    kind: Kind = "text"
    hint: str | None = None
    required: bool = False
    options: Options | Callable[[PlanState], Options] = ()
    attrs: Mapping[str, str] = field(default_factory=dict)
    """Extra HTML attributes: ``inputmode``, ``min``, ``max``, ``step``, ``autocomplete``."""

    def choices(self, state: PlanState | None) -> Options:
        if callable(self.options):
            return self.options(state) if state is not None else ()
        return self.options


@dataclass(frozen=True)
class Section:
    """A ``<fieldset>`` with its legend (None: the fields stand alone)."""

    legend: str | None
    fields: tuple[Field, ...]
    hint: str | None = None
    optional: bool = False
    """Shown folded (``<details>``) unless one of its inputs holds a value or an error."""
    columns: int = 1
    """Inputs side by side (rows of a list), one column at phone width."""


Values = dict[str, list[str]]
"""A submitted form: each name with all its values (checkbox lists send several)."""


def first(values: Values, name: str) -> str:
    found = values.get(name) or [""]
    return found[0]


def form_data(sections: Sequence[Section], values: Values) -> dict[str, Any]:
    """The command's data from a submitted form: empty inputs left out (the command's default
    or its "required" error applies), ``lines`` split, checkboxes as booleans, rows of a list
    whose inputs are all empty dropped, dotted paths nested."""
    flat: dict[str, Any] = {}
    for section in sections:
        for one in section.fields:
            if one.kind == "checkbox":
                flat[one.name] = first(values, one.name) in ("on", "true", "1", "yes")
            elif one.kind == "multi":
                flat[one.name] = [v for v in values.get(one.name, []) if v]
            elif one.kind == "lines":
                lines = [line.strip() for line in first(values, one.name).splitlines()]
                if any(lines):
                    flat[one.name] = [line for line in lines if line]
            else:
                text = first(values, one.name)
                if text.strip():
                    flat[one.name] = text
    return nest(flat)


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"measure.target": "9"}`` → ``{"measure": {"target": "9"}}``; a numeric segment makes
    a list (``contacts.0.name``), in index order, without rows that are left empty."""
    tree: dict[str, Any] = {}
    for path, value in flat.items():
        node = tree
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    nested: dict[str, Any] = _lists(tree)
    return nested


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        rows = [_lists(node[key]) for key in sorted(node, key=int)]
        return [row for row in rows if row not in ({}, None, "")]
    return {key: _lists(value) for key, value in node.items()}


def unchanged(values: Values, before: Values, keep: Sequence[str]) -> set[str]:
    """The top-level command fields a revision leaves as they were: every input under the name
    (``measure`` for ``measure.target``, ``measure.baseline``...) still holds what the form was
    opened with. A revision names only what it changes; ``keep``: always sent (the item's id)."""
    groups: dict[str, bool] = {}
    for name, was in before.items():
        top = name.split(".")[0]
        same = _cleaned(values.get(name, [])) == _cleaned(was)
        groups[top] = groups.get(top, True) and same
    return {top for top, same in groups.items() if same and top not in keep}


def _cleaned(found: Sequence[str]) -> list[str]:
    return sorted(v.replace("\r\n", "\n").strip() for v in found if v.strip())
