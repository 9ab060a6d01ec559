"""The per-user disk cache of compiled kernels: where it is, when it is used, how it is keyed.

**When** (``RMP_RISK_NUMBA_CACHE``): ``0``/``off`` never; ``1``/``on`` always, shared file
systems and batch jobs included; unset or ``auto``: on when the folder is on a local file system
(ext4, xfs, btrfs, zfs, tmpfs, overlay, ...) and the process is not in a batch job (SLURM,
PBS, LSF or OAR job variables set, as on dask-jobqueue workers). The decision is made when a
kernel is decorated (on import), in each process. numba's cache is known to crash when several
processes compile at once on network file systems, and an unknown file system counts as one.

**Where**: ``RMP_RISK_NUMBA_CACHE_DIR``, else ``$XDG_CACHE_HOME/rmp-risk/numba``, else
``~/.cache/rmp-risk/numba``; in it a folder per key, a digest of all that can change the
machine code: the engine's, numba's, llvmlite's, NumPy's and Python's versions, the processor
(name and features), numba's code-generation settings, the libm rebinding, and the sources of
the function's module and of every engine module it imports, transitively. numba alone checks
only the file of the function it compiles, while the kernels inline helpers from other files
and read constants from ``engine.parameters``: an edit there would reuse stale code.

**Safety**: numba writes each index and data file under a temporary name and renames it into
place (atomic on a local file system), and this cache also holds a lock (``flock``) on the
folder around each read and write, so that two processes saving different signatures of one
function cannot cross an index with the other's data. A failed read or write is a miss: the
kernel compiles as without a cache. Nothing here changes numba's global configuration: the
cache is attached to each of the engine's dispatchers. ``rmp-risk cache`` shows the decision
and the folder; ``rmp-risk cache --clear`` empties it.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import json
import os
import platform
import re
import shutil
import sys
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import llvmlite
import llvmlite.binding
import numba
import numpy as np
from numba.core import config as numba_config
from numba.core.caching import (
    CompileResultCacheImpl,
    FunctionCache,
    _CacheLocator,
    _SourceFileBackedLocatorMixin,
)
from numba.core.dispatcher import Dispatcher

from ._version import __version__

try:
    import fcntl
except ImportError:  # not POSIX: numba's atomic renames only
    fcntl = None

ENV = "RMP_RISK_NUMBA_CACHE"
DIR_ENV = "RMP_RISK_NUMBA_CACHE_DIR"
ON, OFF, AUTO = {"1", "on", "true", "yes"}, {"0", "off", "false", "no"}, {"", "auto"}
# File systems of a local disk or of memory, where numba's renames are atomic and flock holds.
LOCAL_FILESYSTEMS = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "jfs", "bcachefs", "reiserfs"}
    | {"tmpfs", "ramfs", "overlay"}
)
# Set in every job of these batch systems (and so on dask-jobqueue's workers).
BATCH_JOB_ENVS = ("SLURM_JOB_ID", "PBS_JOBID", "LSB_JOBID", "OAR_JOB_ID")
# numba settings that change generated code without changing numba's own cache key.
NUMBA_SETTINGS = ("OPT", "LOOP_VECTORIZE", "SLP_VECTORIZE", "ENABLE_AVX", "BOUNDSCHECK")
NUMBA_SETTINGS += ("CPU_NAME", "CPU_FEATURES", "DEBUGINFO_DEFAULT")
KEY_LENGTH = 16  # hex digits of a key folder's name
_KEY_NAME = re.compile(f"[0-9a-f]{{{KEY_LENGTH}}}")
_ENGINE = Path(__file__).resolve().parent
LOCK_NAME = ".lock"
MOUNTS = "/proc/mounts"


@dataclass(frozen=True)
class Policy:
    """Whether this process keeps compiled kernels, in which folder, and why."""

    enabled: bool
    root: Path
    reason: str
    asked: bool = False  # RMP_RISK_NUMBA_CACHE=1


def cache_root(environ: Mapping[str, str] = os.environ) -> Path:
    """The cache's folder: RMP_RISK_NUMBA_CACHE_DIR, else under XDG_CACHE_HOME or ~/.cache."""
    if environ.get(DIR_ENV):
        return Path(environ[DIR_ENV]).expanduser()
    xdg = environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path("~/.cache").expanduser()
    return base / "rmp-risk" / "numba"


def _unescape(field: str) -> str:
    """A /proc/mounts field with its octal escapes (``\\040`` for a space) decoded."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def filesystem_type(path: Path, mounts: str = MOUNTS) -> str | None:
    """The type of the file system ``path`` (or its nearest existing parent) is on, from
    ``mounts``; None where that cannot be read (not Linux)."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    real = os.path.realpath(path)
    try:
        with open(mounts) as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    best, best_type = "", None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point, kind = _unescape(fields[1]), fields[2]
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):  # the deepest; of equals the last (mounted over)
            best, best_type = point, kind
    return best_type


def policy(environ: Mapping[str, str] = os.environ, mounts: str = MOUNTS) -> Policy:
    """The rule of the module docstring, for this environment."""
    root = cache_root(environ)
    value = environ.get(ENV, "").strip().lower()
    if value in OFF:
        return Policy(False, root, f"off: {ENV}={environ[ENV]}")
    if value in ON:
        return Policy(True, root, f"on: {ENV}={environ[ENV]}", asked=True)
    if value not in AUTO:
        return Policy(False, root, f"off: {ENV}={environ[ENV]} is none of 0, 1, auto")
    job = next((name for name in BATCH_JOB_ENVS if environ.get(name)), None)
    if job is not None:
        return Policy(False, root, f"off: a batch job ({job} is set); {ENV}=1 turns it on")
    kind = filesystem_type(root, mounts)
    if kind is None:
        return Policy(False, root, f"off: the file system of {root} is unknown")
    if kind not in LOCAL_FILESYSTEMS:
        return Policy(False, root, f"off: {root} is on {kind}, not a local disk")
    return Policy(True, root, f"on: {root} is on a local disk ({kind})")


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement in ``body``, nested ones included (imports are statements)."""
    for node in body:
        yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            yield from _statements(getattr(node, field, None) or [])


@functools.cache
def _engine_imports(path: Path) -> tuple[Path, ...]:
    """The engine modules (files) that ``path`` imports, anywhere in it."""
    try:
        tree = ast.parse(path.read_bytes(), str(path))
    except (OSError, SyntaxError, ValueError):
        return ()
    try:
        package = list(path.relative_to(_ENGINE.parent).with_suffix("").parts[:-1])
    except ValueError:  # outside the engine: its relative imports are not the engine's
        package = None
    found = []
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            candidates = [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = []
            elif package is None or node.level > len(package):
                continue
            else:
                base = package[: len(package) - node.level + 1]
            module = base + (node.module.split(".") if node.module else [])
            candidates = [module] + [[*module, alias.name] for alias in node.names]
        else:
            continue
        for parts in candidates:
            if not parts or parts[0] != _ENGINE.name:
                continue
            stem = _ENGINE.parent.joinpath(*parts)
            found.extend(f for f in (stem.with_suffix(".py"), stem / "__init__.py") if f.is_file())
    return tuple(found)


def _packages(path: Path) -> Iterator[Path]:
    """The ``__init__.py`` of each engine package that holds ``path`` (run on its import)."""
    folder = path.parent
    while folder == _ENGINE or _ENGINE in folder.parents:
        yield folder / "__init__.py"
        folder = folder.parent


@functools.cache
def module_sources(py_file: str) -> tuple[Path, ...]:
    """``py_file`` and every engine module it imports, transitively, with their packages'
    ``__init__.py``, sorted."""
    seen: set[Path] = set()
    todo = [Path(py_file).resolve()]
    while todo:
        path = todo.pop()
        if path not in seen and path.is_file():
            seen.add(path)
            todo.extend(_engine_imports(path))
            todo.extend(_packages(path))
    return tuple(sorted(seen))


@functools.cache
def _environment_json(bare_math: bool) -> str:
    facts = {
        "engine": __version__,
        "numba": numba.__version__,
        "llvmlite": llvmlite.__version__,
        "numpy": np.__version__,
        "python": sys.version,
        "machine": platform.machine(),
        "cpu": llvmlite.binding.get_host_cpu_name(),
        "cpu_features": llvmlite.binding.get_host_cpu_features().flatten(),
        "codegen": {name: repr(getattr(numba_config, name, None)) for name in NUMBA_SETTINGS},
        "bare_math": bare_math,
    }
    return json.dumps(facts, sort_keys=True)


@functools.cache
def cache_key(py_file: str, bare_math: bool) -> str:
    """The key folder's name for functions of ``py_file``: see the module docstring."""
    digest = hashlib.sha256(_environment_json(bare_math).encode())
    for path in module_sources(py_file):
        digest.update(f"\0{path.name}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:KEY_LENGTH]


@contextmanager
def _locked(folder: str, exclusive: bool) -> Iterator[None]:
    """An flock on ``folder``'s lock file: shared to read, exclusive to write."""
    if fcntl is None:
        yield
        return
    if exclusive:
        os.makedirs(folder, exist_ok=True)
    fd = os.open(os.path.join(folder, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


class _KeyedLocator(_SourceFileBackedLocatorMixin, _CacheLocator):
    """numba's user-provided-folder locator, with the folder passed in (not NUMBA_CACHE_DIR)."""

    def __init__(self, py_func, py_file: str, folder: Path):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = os.path.join(folder, self.get_suitable_cache_subpath(py_file))

    def get_cache_path(self) -> str:
        return self._cache_path


class _KeyedImpl(CompileResultCacheImpl):
    """numba's compile-result cache, located by ``_KeyedLocator`` whatever numba's settings
    (``NUMBA_CACHE_DIR``, ``NUMBA_CACHE_LOCATOR_CLASSES``) say."""

    def __init__(self, py_func, folder: Path):
        self._lineno = py_func.__code__.co_firstlineno
        source = inspect.getfile(py_func)
        self._locator = _KeyedLocator(py_func, source, folder)
        self._locator.ensure_cache_path()  # OSError where it cannot be written
        modname = os.path.splitext(os.path.basename(source))[0]
        fullname = f"{modname}.{py_func.__qualname__}"
        self._filename_base = self.get_filename_base(fullname, getattr(sys, "abiflags", ""))


class KernelCache(FunctionCache):
    """numba's ``FunctionCache`` in ``folder``, its reads and writes under a lock, a failure of
    either a miss."""

    def __init__(self, py_func, folder: Path):
        self._impl_class = functools.partial(_KeyedImpl, folder=folder)
        super().__init__(py_func)

    def load_overload(self, sig, target_context):
        try:
            with _locked(self._cache_path, exclusive=False):
                return super().load_overload(sig, target_context)
        except Exception:  # a vanished, damaged or unreadable entry: compile instead
            return None

    def save_overload(self, sig, data):
        try:
            with _locked(self._cache_path, exclusive=True):
                super().save_overload(sig, data)
        except Exception:  # a full disk, a folder cleared meanwhile: the run goes on
            return


def attach(dispatcher, bare_math: bool, rule: Policy | None = None) -> bool:
    """Give ``dispatcher`` the engine's disk cache where ``rule`` (default: this environment's
    ``policy()``) allows it, as numba's ``enable_caching`` would its own. True if attached."""
    rule = policy() if rule is None else rule
    if not rule.enabled or not isinstance(dispatcher, Dispatcher):
        return False
    py_func = dispatcher.py_func
    try:
        folder = rule.root / cache_key(inspect.getfile(py_func), bare_math)
        dispatcher._cache = KernelCache(py_func, folder)
    except (OSError, TypeError):  # an unwritable folder, a function without a file
        if rule.asked:
            _warn_once(f"{ENV}=1: cannot write in {rule.root}: compiled kernels are not kept")
        return False
    return True


@functools.cache
def _warn_once(message: str) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=4)


def key_folders(root: Path) -> list[Path]:
    """The key folders in ``root`` (only names this module makes)."""
    try:
        return sorted(p for p in root.iterdir() if p.is_dir() and _KEY_NAME.fullmatch(p.name))
    except OSError:
        return []


def folder_size(folder: Path) -> tuple[int, int]:
    """(files, bytes) under ``folder``."""
    files = size = 0
    for base, _, names in os.walk(folder):
        for name in names:
            try:
                size += os.stat(os.path.join(base, name)).st_size
                files += 1
            except OSError:
                continue
    return files, size


def clear(root: Path) -> int:
    """Remove the key folders in ``root`` (nothing else: the folder may be a user's own).
    Returns how many were removed."""
    folders = key_folders(root)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    return len(folders)
