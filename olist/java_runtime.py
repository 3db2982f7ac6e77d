"""The Java runtime the spark gateway needs (PySpark 4 starts a JVM: Java 17 or later).

`make setup` runs `python -m olist.java_runtime` when OLIST_GATEWAY=spark, and `olist run`
checks the same before it loads anything, so a missing Java is reported in one sentence with the
command that installs it, not as a Py4J stack trace after the ingest.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

MINIMUM_JAVA = 17
INSTALL_HINT = (
    "install one (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`) or point JAVA_HOME "
    "at one"
)


def java_version_problem() -> str | None:
    """Why the spark gateway cannot start a JVM here, or None when `java` is 17 or later."""
    # PySpark starts $JAVA_HOME/bin/java when JAVA_HOME is set, else `java` from PATH.
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    needed = f"The spark gateway needs a Java {MINIMUM_JAVA}+ runtime"
    if java is None or not Path(java).is_file():
        where = f"JAVA_HOME={home} has no bin/java" if home else "`java` is not on PATH"
        return f"{needed} and {where}: {INSTALL_HINT}."
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    version = parse_java_version(result.stderr + result.stdout)
    if version is None or version < MINIMUM_JAVA:
        found = "an unreadable version" if version is None else f"Java {version}"
        return f"{needed} and {java} is {found}: {INSTALL_HINT}."
    return None


def parse_java_version(output: str) -> int | None:
    """The major version in `java -version`'s output: `openjdk version "17.0.15"` gives 17,
    `java version "1.8.0_392"` gives 8."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if match is None:
        return None
    major, minor = int(match.group(1)), match.group(2)
    return int(minor) if major == 1 and minor is not None else major


def main() -> int:
    problem = java_version_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
