"""Output locations checked before any work starts: a bad one fails at once, not at the end."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError


class OutputLocationError(InputError):
    """An output location that cannot be written; the message names the option and the path."""


def check_writable_folder(folder: Path, option: str, path: Path | None = None) -> None:
    """Create ``folder`` if needed and write (then remove) a file in it; an OutputLocationError
    naming ``option`` and ``path`` (default: the folder) when that fails."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as err:
        shown = path if path is not None else folder
        raise OutputLocationError(
            f"{option} {shown}: cannot write there ({err.strerror})"
        ) from None


def check_writable_file(path: Path, option: str) -> None:
    """``path`` can be written as a file: not a directory, its folder writable (created)."""
    if path.is_dir():
        raise OutputLocationError(f"{option} {path}: is a directory")
    check_writable_folder(path.parent, option, path)


def json_ready(x: Any) -> Any:
    """``x`` as plain JSON values: numpy scalars and arrays → Python, NaN and infinities → None."""
    if isinstance(x, dict):
        return {str(k): json_ready(v) for k, v in x.items()}
    if isinstance(x, np.ndarray):
        return json_ready(x.tolist())
    if isinstance(x, list | tuple):
        return [json_ready(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_json(path: Path, payload: Any) -> None:
    """Write ``json_ready(payload)`` to ``path`` atomically (a hidden file beside it, renamed)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(json_ready(payload), indent=2, allow_nan=False) + "\n")
    os.replace(tmp, path)
