"""What else ran on the machine while a benchmark ran: every benchmark must say so.

On a 2-core machine one busy neighbour takes half of what DuckDB would get, so a figure means
little without it. `OtherProcesses` samples `ps` from a thread while the benchmark runs and adds
up the CPU time of every process that is not the benchmark or one of its children.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MachineLoad:
    seconds: float  # the bench's wall time
    load_at_start: tuple[float, float, float]
    load_at_end: tuple[float, float, float]
    cpu_by_command: dict[str, tuple[int, float]]  # command -> (processes, CPU seconds)

    def cores_used(self) -> float:
        return sum(cpu for _, cpu in self.cpu_by_command.values()) / self.seconds


class OtherProcesses:
    """The CPU time processes other than the bench (and its children) use while it runs.

    The issue asks every benchmark to say what else was running: on a 2-core machine one busy
    neighbour takes half of what DuckDB would get. `ps` is sampled every few seconds from a
    thread; a process's CPU time counts from when the bench started (or the process did), and
    only processes that start and end between two samples are missed.
    """

    INTERVAL_S = 2.0

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)
        self._seen: dict[int, tuple[str, int]] = {}  # pid -> (command, CPU seconds at last sample)
        self._cpu: dict[int, float] = defaultdict(float)
        self._commands: dict[int, str] = {}
        # Every process ever seen as the bench's: a child that outlives its parent (Spark's JVM
        # after SQLMesh exits) is reparented to init, and must not then count as another's.
        self._ours: set[int] = set()

    def __enter__(self) -> OtherProcesses:
        self._started = time.monotonic()
        self._load_at_start = os.getloadavg()
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self._seconds = time.monotonic() - self._started
        self._load_at_end = os.getloadavg()

    def result(self) -> MachineLoad:
        by_command: dict[str, tuple[int, float]] = {}
        for pid, cpu in self._cpu.items():
            processes, total = by_command.get(self._commands[pid], (0, 0.0))
            by_command[self._commands[pid]] = (processes + 1, total + cpu)
        return MachineLoad(self._seconds, self._load_at_start, self._load_at_end, by_command)

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(self.INTERVAL_S):
            self._sample()

    def _sample(self) -> None:
        listing = subprocess.run(
            ["ps", "-eo", "pid=,ppid=,etimes=,times=,args="],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        since_start = time.monotonic() - self._started
        processes = [line.split(None, 4) for line in listing.splitlines()]
        processes = [p + [""] * (5 - len(p)) for p in processes if len(p) >= 4]
        self._ours |= bench_processes({int(p[0]): int(p[1]) for p in processes})
        for pid_text, _ppid, elapsed, cpu_text, args in processes:
            pid, cpu = int(pid_text), int(cpu_text)
            if pid in self._ours:
                continue
            command = command_label(args)
            previous = self._seen.get(pid)
            if previous is not None and previous[0] == command:
                self._cpu[pid] += cpu - previous[1]
            elif int(elapsed) < since_start:  # started while the bench ran: all its CPU counts
                self._cpu[pid] += cpu
            self._seen[pid] = (command, cpu)
            self._commands[pid] = command


def bench_processes(parents: Mapping[int, int]) -> set[int]:
    """This process and its descendants, from a pid -> parent pid map."""
    ours, added = {os.getpid()}, True
    while added:
        children = {pid for pid, parent in parents.items() if parent in ours} - ours
        ours |= children
        added = bool(children)
    return ours


def command_label(args: str) -> str:
    """A short name for a command line: the program and its first argument, without folders
    (`python pytest`, `python replay_driver.py`); kernel threads as `ps` shows them."""
    if args.startswith("["):
        return args
    return " ".join(Path(word).name for word in args.split()[:2])[:60]


def machine_line(load: MachineLoad) -> str:
    busiest = sorted(load.cpu_by_command.items(), key=lambda item: -item[1][1])[:5]
    listed = "; ".join(
        f"`{command}` ({processes} process{'es' if processes > 1 else ''}) {cpu:.0f} s"
        for command, (processes, cpu) in busiest
        if cpu >= 1
    )
    return (
        f"What else ran on the machine ({os.cpu_count()} cores) during the bench's "
        f"{load.seconds / 60:.1f} min (sampled with `ps` every {OtherProcesses.INTERVAL_S:g} s): "
        f"other processes used {load.cores_used():.2f} cores on average; the busiest by CPU "
        f"time: {listed or 'none'}. Load average (1, 5, 15 min, the bench included) "
        f"{', '.join(f'{x:.2f}' for x in load.load_at_start)} at the start, "
        f"{', '.join(f'{x:.2f}' for x in load.load_at_end)} at the end."
    )
