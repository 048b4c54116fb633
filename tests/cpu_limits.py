"""Limits on CPU time, not on the clock: a hang detector must not fire because the machine is busy.

A build that loops uses CPU; one that merely waits its turn on a loaded machine does not. So each limit counts the
CPU time of the process doing the work (ITIMER_PROF in-process, RLIMIT_CPU for a child), and only a generous
clock limit, BACKSTOP times as long, remains for the one kind of hang that uses no CPU: waiting forever.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

BACKSTOP = 10  # the clock limit, in multiples of the CPU limit: only a build that waits without end reaches it
REPO = Path(__file__).resolve().parent.parent


class Hang(BaseException):
    """Raised by the timer; a BaseException so that no `except Exception` in the build can swallow it."""


class cpu_limit:  # noqa: N801 - used like a function: `with cpu_limit(2):`
    """Raise `Hang` in the main thread after `seconds` of this process's CPU time (user and system, all threads),
    or after BACKSTOP times as long by the clock. (A class, not @contextmanager: that would set __traceback__ on the
    exception passing through, which site_builder's frozen SiteError refuses.)"""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def _cpu(self, signum: int, frame: Any) -> None:
        raise Hang(f"the build used more than {self.seconds} s of CPU time")

    def _clock(self, signum: int, frame: Any) -> None:
        raise Hang(f"the build waited more than {self.seconds * BACKSTOP} s without finishing")

    def __enter__(self) -> None:
        self.previous = signal.signal(signal.SIGPROF, self._cpu), signal.signal(signal.SIGALRM, self._clock)
        signal.setitimer(signal.ITIMER_PROF, self.seconds)  # counts CPU time only
        signal.setitimer(signal.ITIMER_REAL, self.seconds * BACKSTOP)

    def __exit__(self, *exc: object) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGPROF, self.previous[0])
        signal.signal(signal.SIGALRM, self.previous[1])


def child_cpu_limit(seconds: int) -> Callable[[], None]:
    """A preexec_fn: the child gets SIGXCPU (and dies) after `seconds` of CPU time."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))

    return limit


def run_cli_cpu(*args: str, cwd: Path, cpu_seconds: int = 60, module: bool = True) -> subprocess.CompletedProcess[str]:
    """`python -m site_builder ARGS` as users run it (`python ARGS` if not `module`), limited to `cpu_seconds` of
    CPU time."""
    try:
        proc = subprocess.run(
            [sys.executable, *(["-m", "site_builder"] if module else []), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=cpu_seconds * BACKSTOP,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            preexec_fn=child_cpu_limit(cpu_seconds),  # no threads here: it only sets a limit
        )
    except subprocess.TimeoutExpired:
        raise Hang(f"site_builder {' '.join(args)} waited more than {cpu_seconds * BACKSTOP} s without finishing") from None
    if proc.returncode == -signal.SIGXCPU:
        raise Hang(f"site_builder {' '.join(args)} used more than {cpu_seconds} s of CPU time")
    return proc
