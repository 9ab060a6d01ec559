"""A resolved config → TOML text with a unit-and-source comment on every value.

Fitted values carry the comment of their fit (``Fitted.comment``); every other value keeps the
comment its base config file gave it (read from the base file and the files it is based on).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import default_config_path

SIGNIFICANT_DIGITS = 5  # digits kept of a fitted float (estimates carry 2–4 significant digits)
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_]+)\s*=\s*(.*)$")
_TABLE = re.compile(r"^\s*\[(\[?)([^\]]+)\]?\]\s*(#.*)?$")


def base_comments(path: str | Path) -> dict[str, str]:
    """Dotted key → the comment on its line (without ``#``), over a config file and the files it
    is based on (``base = ...``); the file's own comments win over its base's."""
    path = Path(path)
    comments: dict[str, str] = {}
    with open(path, "rb") as fh:
        base = tomllib.load(fh).get("base")
    if isinstance(base, str):
        base_path = default_config_path() if base == "default" else path.parent / base
        comments.update(base_comments(base_path))
    comments.update(_line_comments(path.read_text(encoding="utf-8")))
    return comments


def _line_comments(text: str) -> dict[str, str]:
    """Dotted key → comment for every ``key = value  # comment`` line of TOML ``text``; a
    comment continued on following comment-only lines is joined."""
    comments: dict[str, str] = {}
    table = ""
    last_key = None
    for line in text.splitlines():
        stripped = line.strip()
        header = _TABLE.match(line)
        if header and not _ASSIGNMENT.match(line):
            table = header.group(2).strip()
            last_key = None
            if header.group(3):
                comments[table] = header.group(3).lstrip("#").strip()
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment:
            key = f"{table}.{assignment.group(1)}" if table else assignment.group(1)
            comment = _trailing_comment(assignment.group(2))
            if comment:
                comments[key] = comment
                last_key = key
            else:
                last_key = None
        elif stripped.startswith("#") and last_key and line.startswith(" "):
            comments[last_key] += " " + stripped.lstrip("#").strip()
        else:
            last_key = None
    return comments


def _trailing_comment(rest: str) -> str | None:
    """The comment after a TOML value (a ``#`` outside strings), or None."""
    in_string = False
    for i, char in enumerate(rest):
        if char == '"':
            in_string = not in_string
        elif char == "#" and not in_string:
            return rest[i + 1 :].strip()
    return None


def round_significant(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``value`` rounded to ``digits`` significant digits (for fitted values)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def format_value(value: Any) -> str:
    """A TOML literal for a config value (numbers, bools, strings, dates, lists)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"non-finite value {value!r} cannot be written to a config")
        text = repr(value)  # the shortest text that reads back as the same float
        return text if any(c in text for c in ".e") else text + ".0"
    if isinstance(value, str):
        if _is_iso_date(value):
            return value  # a TOML local date
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to a config")


def _is_iso_date(text: str) -> bool:
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))


def render_config(
    values: Mapping[str, Any],
    comments: Mapping[str, str],
    header: str,
    table_order: tuple[str, ...] = (),
) -> str:
    """TOML text of a resolved config (``Config.to_dict`` layout), one commented line a value.

    Parameters
    ----------
    values : nested mapping
        The config; nested mappings are tables, lists of mappings arrays of tables.
    comments : mapping
        Dotted key (or table name) → comment; a value without one is an error, so that no
        number reaches a config without its unit and source.
    header : str
        Comment lines written first (each prefixed with ``# ``).
    table_order : tuple of str
        Top-level tables to write first, in this order; the rest follow in ``values`` order.
    """
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    order = [k for k in table_order if k in values] + [k for k in values if k not in table_order]
    scalars = {k: values[k] for k in order if not isinstance(values[k], Mapping)}
    for key, value in scalars.items():
        lines.append(_line(key, value, comments, key))
    for key in order:
        if isinstance(values[key], Mapping):
            _table(lines, key, values[key], comments)
    return "\n".join(lines) + "\n"


def _table(lines: list[str], name: str, table: Mapping[str, Any], comments) -> None:
    simple = {k: v for k, v in table.items() if not _is_table(v)}
    if simple or name in comments:
        lines.append("")
        title = f"[{name}]"
        lines.append(f"{title:<34} # {comments[name]}" if name in comments else title)
    for key, value in simple.items():
        lines.append(_line(key, value, comments, f"{name}.{key}"))
    for key, value in table.items():
        if isinstance(value, Mapping):
            _table(lines, f"{name}.{key}", value, comments)
        elif _is_table(value):
            for i, item in enumerate(value):
                lines.append("")
                lines.append(f"[[{name}.{key}]]")
                for k, v in item.items():
                    lines.append(_line(k, v, comments, f"{name}.{key}[{i}].{k}"))


def _is_table(value: Any) -> bool:
    return isinstance(value, Mapping) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)
    )


def _line(key: str, value: Any, comments: Mapping[str, str], dotted: str) -> str:
    comment = comments.get(dotted)
    if comment is None:
        raise KeyError(f"no unit/source comment for {dotted}")
    assignment = f"{key} = {format_value(value)}"
    return f"{assignment:<34} # {comment}"
