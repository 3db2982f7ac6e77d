"""Run one command; write its wall time, CPU time, peak RSS and exit code to a JSON file.

    python bench/launcher.py RESULT_JSON -- COMMAND [ARGS...]

Why a process of its own: Linux carries the peak-RSS high-water mark of the process that forks
over into the child, across exec (`ru_maxrss` is never below the parent's RSS at the fork). Spawned
straight from the benchmark, which holds DuckDB and pyarrow (hundreds of MB after generating the
data), every contender would report at least the benchmark's own size. This launcher imports only
the standard library (~10 MB), so the peak it reports is the command's own. The command inherits
the launcher's working directory, environment and standard streams.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    result_path, command = Path(argv[1]), argv[3:]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    # wait4, not Popen.wait: it returns this child's own rusage (ru_maxrss is in KiB on Linux),
    # which covers the child and the descendants it waited for.
    _, status, usage = os.wait4(process.pid, 0)
    wall_s = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    result = {
        "exit_code": process.returncode,
        "wall_s": wall_s,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_kib": usage.ru_maxrss,
    }
    result_path.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
