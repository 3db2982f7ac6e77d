"""Small disks for full-disk tests: a tmpfs of a chosen size that a test can grow afterwards.

Mounting needs root; the suite runs as root (the dev container and CI), so a failed mount is a
broken machine and fails the test rather than skipping it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOMY = "256m"  # enough for every full-disk test's rerun


def mount_tmpfs(mountpoint: Path, size: str) -> None:
    """Mount a tmpfs of `size` (`4m`, `12m`...) at `mountpoint`, creating the folder."""
    mountpoint.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert mounted.returncode == 0, f"cannot mount a tmpfs here: {mounted.stderr.strip()}"


def grow(mountpoint: Path, size: str = ROOMY) -> None:
    """Give the tmpfs at `mountpoint` room (its files stay): the user freed space."""
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mountpoint)], check=True)


def unmount(mountpoint: Path) -> None:
    # --lazy: a file still open (a failed test's connection) must not fail the teardown.
    subprocess.run(["umount", "--lazy", str(mountpoint)], check=True)
