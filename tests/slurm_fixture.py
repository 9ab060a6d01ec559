"""A single-node SLURM for the tests: ``munged``, ``slurmctld`` and ``slurmd`` started from a
generated ``slurm.conf`` in a temporary folder, stopped by their pid files, nothing left running.

It needs root (the daemons run as root, ``SlurmUser=root``) and Debian's ``slurm-wlm`` and
``munge`` packages (``.ci/run`` installs them). ``unavailable()`` says why it cannot run here.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scancel", "sinfo", "scontrol")
PACKAGES = "slurm-wlm munge"
START_TIMEOUT = 30.0  # seconds for the node to come up idle
STOP_TIMEOUT = 15.0  # seconds for a daemon to exit after SIGTERM (then SIGKILL)
JOBS_END_TIMEOUT = 30.0  # seconds for cancelled jobs to leave the node
POLL = 0.2  # seconds between looks
MUNGE_KEY_BYTES = 1024  # munged's own default key size
KILL_WAIT = 5  # seconds SLURM waits between SIGTERM and SIGKILL when a job ends
SLURM_ACTIVE = ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED")


class SlurmUnavailable(Exception):
    """SLURM cannot run on this machine; the message says why."""


@dataclass
class Slurm:
    """A running single-node SLURM: its folder, config, node and daemons."""

    root: Path
    conf: Path
    node: str
    cpus: int
    memory_mb: int  # the node's RealMemory
    daemons: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def run(self, *command: str) -> str:
        """A SLURM command's output (CalledProcessError if it fails), run in this SLURM's folder
        (where a job's output goes by default)."""
        done = subprocess.run(
            command,
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return done.stdout

    def jobs(self) -> dict[str, str]:
        """Every job SLURM still lists: id -> state (PENDING, RUNNING, TIMEOUT, ...)."""
        out = self.run("squeue", "--noheader", "--states=all", "-o", "%i %T")
        return dict(line.split() for line in out.splitlines() if line.strip())

    def active_jobs(self) -> list[str]:
        return [job for job, state in self.jobs().items() if state in SLURM_ACTIVE]

    def cancel_all(self) -> None:
        """Cancel every job and wait until none is left on the node."""
        self.run("scancel", "--user", "root")
        deadline = time.monotonic() + JOBS_END_TIMEOUT
        while self.active_jobs():
            if time.monotonic() > deadline:
                raise AssertionError(f"SLURM jobs still active: {self.active_jobs()}")
            time.sleep(POLL)


def unavailable() -> str | None:
    """Why a SLURM cannot be brought up here, or None if it can."""
    if os.name != "posix" or os.geteuid() != 0:
        return "a single-node SLURM needs root (its daemons run as root)"
    missing = [name for name in (*DAEMONS, *CLIENTS) if shutil.which(name) is None]
    if missing:
        return (
            f"SLURM is not installed ({', '.join(missing)} not found): as root, "
            f"`apt-get install {PACKAGES}` (.ci/run does)"
        )
    return None


def start() -> Slurm:
    """Bring up munged, slurmctld and slurmd; SlurmUnavailable (with the logs) if they fail."""
    root = Path(tempfile.mkdtemp(prefix="rmp-risk-slurm-"))
    root.chmod(0o755)  # munged wants every folder above its socket open to all
    node, cpus, memory_mb = _hardware()
    slurm = Slurm(root, root / "slurm.conf", node, cpus, memory_mb)
    for sub in ("munge", "state", "spool", "log", "jobs"):
        (root / sub).mkdir(mode=0o755)
    key = root / "munge" / "munge.key"
    key.write_bytes(os.urandom(MUNGE_KEY_BYTES))
    key.chmod(0o600)
    slurm.conf.write_text(_slurm_conf(slurm, *_free_ports(2)))
    try:
        _start_daemons(slurm)
        _wait_idle(slurm)
    except BaseException as err:
        problems = stop(slurm)
        logs = _log_tails(root)
        shutil.rmtree(root, ignore_errors=True)
        if isinstance(err, SlurmUnavailable):
            raise SlurmUnavailable(f"{err}; {'; '.join(problems)} {logs}".strip()) from None
        raise
    return slurm


def stop(slurm: Slurm) -> list[str]:
    """Cancel the jobs, stop the daemons by their pid files (slurmd, slurmctld, munged), and
    say what is still running (nothing, normally)."""
    problems: list[str] = []
    if "slurmctld" in slurm.daemons and "slurmd" in slurm.daemons:
        try:
            slurm.cancel_all()
        except (subprocess.SubprocessError, AssertionError) as err:
            problems.append(f"jobs not cancelled: {err}")
    for name in ("slurmd", "slurmctld", "munged"):
        process = slurm.daemons.pop(name, None)
        if process is not None:
            problems += _stop_daemon(name, process, _pid_file(slurm.root, name))
    return problems


def leftovers(slurm: Slurm) -> list[str]:
    """Processes other than this one still running under this SLURM (its daemons, a job's
    ``slurmstepd`` or worker): those whose environment names its ``slurm.conf``."""
    mark = f"SLURM_CONF={slurm.conf}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if mark in environ and state != "Z":
            found.append(f"{proc.name}: {command}")
    return found


def remove(slurm: Slurm) -> None:
    shutil.rmtree(slurm.root, ignore_errors=True)


def _hardware() -> tuple[str, int, int]:
    """(node name, CPUs this process may use, memory in MB) as ``slurmd -C`` finds them."""
    out = subprocess.run(
        ["slurmd", "-C"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    fields = dict(item.split("=", 1) for item in out.split() if "=" in item)
    return fields["NodeName"], len(os.sched_getaffinity(0)), int(fields["RealMemory"])


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _slurm_conf(slurm: Slurm, controller_port: int, node_port: int) -> str:
    """One node, one partition; no cgroups, no accounting; everything under ``slurm.root``."""
    root = slurm.root
    return f"""\
ClusterName=rmprisk
SlurmctldHost={slurm.node}(127.0.0.1)
SlurmctldPort={controller_port}
SlurmdPort={node_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge/socket
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={_pid_file(root, "slurmctld")}
SlurmdPidFile={_pid_file(root, "slurmd")}
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
KillWait={KILL_WAIT}
OverTimeLimit=0
NodeName={slurm.node} NodeAddr=127.0.0.1 CPUs={slurm.cpus} RealMemory={slurm.memory_mb} \
State=UNKNOWN
PartitionName=debug Nodes={slurm.node} Default=YES MaxTime=INFINITE State=UP
"""


def _pid_file(root: Path, name: str) -> Path:
    return root / ("munge" if name == "munged" else "") / f"{name}.pid"


def _start_daemons(slurm: Slurm) -> None:
    """Each daemon in the foreground, in a session of its own, as a child of this process (so
    that it is reaped when it stops); each writes its pid file."""
    root, munge = slurm.root, slurm.root / "munge"
    commands = {
        "munged": [
            "munged",
            "--foreground",
            f"--key-file={munge / 'munge.key'}",
            f"--socket={munge / 'socket'}",
            f"--pid-file={_pid_file(root, 'munged')}",
            f"--log-file={munge / 'munged.log'}",
            f"--seed-file={munge / 'munged.seed'}",
        ],
        "slurmctld": ["slurmctld", "-D"],
        "slurmd": ["slurmd", "-D"],
    }
    for name, command in commands.items():
        with open(root / "log" / f"{name}.out", "wb") as log:
            slurm.daemons[name] = subprocess.Popen(
                command,
                env=slurm.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=root,
            )
        _wait_for(lambda n=name: _pid_file(root, n).exists(), f"{name} wrote no pid file", slurm)


def _wait_idle(slurm: Slurm) -> None:
    def idle() -> bool:
        try:
            return slurm.run("sinfo", "--noheader", "-o", "%t").strip() == "idle"
        except subprocess.SubprocessError:
            return False

    _wait_for(idle, "the node did not come up idle", slurm)


def _wait_for(condition, failure: str, slurm: Slurm) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not condition():
        dead = [name for name, p in slurm.daemons.items() if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            ended = f" ({', '.join(dead)} exited)" if dead else f" in {START_TIMEOUT:.0f}s"
            raise SlurmUnavailable(f"{failure}{ended}")
        time.sleep(POLL)


def _stop_daemon(name: str, process: subprocess.Popen, pid_file: Path) -> list[str]:
    """SIGTERM to the pid in ``pid_file``, SIGKILL if it has not exited in STOP_TIMEOUT."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pid = process.pid  # never wrote one: the process itself
        if process.poll() is not None:
            return []
    problems = [] if pid == process.pid else [f"{name}: pid file says {pid}, started {process.pid}"]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(STOP_TIMEOUT)
            break
        except subprocess.TimeoutExpired:
            problems.append(f"{name} (pid {pid}) ignored {sig.name}")
    if process.poll() is None:
        process.kill()
        process.wait()
        problems.append(f"{name} (pid {process.pid}) had to be killed")
    return problems


def _log_tails(root: Path, lines: int = 5) -> str:
    """The last lines of the daemons' logs, for a failed start."""
    tails = []
    for log in sorted(root.glob("log/*.log")) + sorted(root.glob("munge/*.log")):
        text = log.read_text(errors="replace").strip().splitlines()[-lines:]
        if text:
            tails.append(f"[{log.name}: {' | '.join(text)}]")
    return " ".join(tails)
