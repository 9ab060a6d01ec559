"""The base of every error caused by bad input (a config, an option, a path, a cube): the command
line prints its one-line message and exits with status 2."""

from __future__ import annotations


class InputError(ValueError):
    """Input the engine cannot use; the message names the file and the key or option."""


class ClusterError(InputError):
    """Scheduler options or a cluster file that cannot be used."""


class JobsEnded(ClusterError):
    """Every batch job of a run ended (walltime, cancelled, failed) before the run did."""
