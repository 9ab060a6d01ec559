"""Output locations checked before any work starts: a bad one fails at once, not at the end."""

from __future__ import annotations

import tempfile
from pathlib import Path

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
