"""The evaluation's folder of issued forecasts: one JSON file per origin, written as it finishes,
so that an interrupted evaluation resumes where it stopped.

``DIR/origins/identity.json`` holds what every forecast depends on (forecasters, data, horizon,
paths, seed, regime, refit schedule); a folder made with other settings is refused unless
``overwrite``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..outputs import write_json

IDENTITY = "identity.json"


class EvaluationStoreError(InputError):
    """An evaluation folder that cannot be resumed; the message says why."""


class OriginStore:
    """Issued forecasts by origin (``YYYY-MM``) under ``folder``, for one ``identity``."""

    def __init__(self, folder: Path, identity: dict[str, Any], overwrite: bool = False):
        self.folder = folder
        expected = json.loads(json.dumps(identity))  # as it reads back from JSON
        path = folder / IDENTITY
        if path.exists():
            try:
                found = json.loads(path.read_text())
            except (OSError, ValueError) as err:
                raise EvaluationStoreError(f"{path}: unreadable ({err})") from None
            if found != expected and not overwrite:
                changed = sorted(
                    k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k)
                )
                raise EvaluationStoreError(
                    f"{folder}: holds forecasts made with other settings ({', '.join(changed)}); "
                    "pass --overwrite to start again, or another --out"
                )
            if found != expected:
                shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            write_json(path, expected)

    def _path(self, origin: str) -> Path:
        return self.folder / f"{origin}.json"

    def done(self, origin: str) -> bool:
        return self._path(origin).is_file()

    def put(self, origin: str, forecasts: dict[str, Any]) -> None:
        write_json(self._path(origin), forecasts)

    def get(self, origin: str) -> dict[str, Any]:
        path = self._path(origin)
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise EvaluationStoreError(f"{path}: unreadable ({err}); delete it to rerun") from None
