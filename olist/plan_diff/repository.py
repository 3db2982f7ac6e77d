"""What a plan diff reads from the git repository: its root, the base commit, the branch that
names the environment, the base's files and the working tree's."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

from olist.errors import PipelineError

ENVIRONMENT_PREFIX = "pr_"


def git(repository: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repository), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise PipelineError(
            f"git {' '.join(args)} failed in {repository}: {result.stderr.strip() or 'no output'}"
        )
    return result.stdout


def repository_root(directory: Path) -> Path:
    result = subprocess.run(
        ["git", "-C", str(directory), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise PipelineError(
            f"{directory} is not in a git checkout. `olist plan-diff` compares the working tree "
            "with a git commit: run it from the project's repository."
        )
    root = Path(result.stdout.strip())
    if not (root / "config.yaml").is_file():
        raise PipelineError(
            f"The repository at {root} has no SQLMesh project (config.yaml at its root)."
        )
    return root


def resolve_commit(repository: Path, ref: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repository), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise PipelineError(
            f"--base {ref!r} is not a commit in {repository}. Name a branch, tag or commit; in a "
            f"shallow or single-branch clone, fetch it first (git fetch origin {ref})."
        )
    return result.stdout.strip()


def environment_name(requested: str | None, repository: Path) -> str:
    """`requested`, or `pr_<branch>` (`pr_<short commit>` on a detached HEAD), made safe.

    SQLMesh puts the name into schema names (`marts__pr_my_branch`): lower case, letters, digits
    and underscores only.
    """
    if requested is None:
        branch = git(repository, "rev-parse", "--abbrev-ref", "HEAD").strip()
        if branch == "HEAD":
            branch = git(repository, "rev-parse", "--short", "HEAD").strip()
        requested = f"{ENVIRONMENT_PREFIX}{branch}"
    name = re.sub(r"[^a-z0-9_]+", "_", requested.lower()).strip("_")
    if not name or name == "prod":
        raise PipelineError(
            f"--env {requested!r} cannot be the plan diff's environment: it needs letters or "
            "digits, and prod is what the change is compared with. Pass e.g. --env pr_my_change."
        )
    return name


def export_base(repository: Path, commit: str, destination: Path) -> None:
    """Write the files of `commit` to `destination` (git archive: no worktree to clean up)."""
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(repository), "archive", "--format=tar", commit],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise PipelineError(
            f"git archive {commit[:7]} failed in {repository}: {archive.stderr.decode().strip()}"
        )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(destination, filter="data")
    if not (destination / "config.yaml").is_file():
        raise PipelineError(
            f"The base commit {commit[:7]} has no SQLMesh project (config.yaml): there is no "
            "prod to compare with. Pass a later --base."
        )


def copy_working_tree(repository: Path, destination: Path, skip: Path) -> None:
    """Copy the files git sees in the working tree (tracked or untracked, not ignored)."""
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    listing = git(repository, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in sorted(set(filter(None, listing.split("\0")))):
        source = repository / name
        # Deleted but not yet staged, a submodule, or the work folder itself (if not ignored).
        if not source.is_file() or source.resolve().is_relative_to(skip):
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
