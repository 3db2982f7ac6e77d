"""The GitHub workflows: they pass actionlint, as `make lint` checks, and the plan-diff workflow
keeps its promises: least privilege, one run per branch, one comment found by the report's marker.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from helpers.readme import readme_commands

from olist.plan_diff.report import MARKER

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def actionlint(*workflows: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", *map(str, workflows)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def test_workflows_pass_actionlint_and_make_lint_runs_it():
    workflows = sorted(WORKFLOWS.glob("*.yml"))
    result = actionlint(*workflows)
    make_lint = subprocess.run(
        ["make", "--dry-run", "lint"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )

    assert [path.name for path in workflows] == ["ci.yml", "plan-diff.yml"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert ".venv/bin/actionlint" in make_lint.stdout


def test_actionlint_rejects_a_workflow_with_a_mistake(tmp_path):
    # The check above means something only if actionlint reads the expressions: a misspelt
    # property of the `github` context must fail it.
    broken = tmp_path / "plan-diff.yml"
    text = (WORKFLOWS / "plan-diff.yml").read_text(encoding="utf-8")
    broken.write_text(text.replace("github.base_ref", "github.base_reff"), encoding="utf-8")

    result = actionlint(broken)

    assert result.returncode == 1
    assert 'property "base_reff" is not defined' in result.stdout, result.stdout


def test_plan_diff_workflow_may_only_read_code_and_write_comments_one_run_per_branch():
    workflow = load("plan-diff.yml")

    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert all("permissions" not in job for job in workflow["jobs"].values())
    assert "github.head_ref" in workflow["concurrency"]["group"]
    assert workflow["concurrency"]["cancel-in-progress"] is True
    assert load("ci.yml")["permissions"] == {"contents": "read"}


def test_plan_diff_comment_is_found_by_the_first_line_of_the_report():
    steps = load("plan-diff.yml")["jobs"]["plan-diff"]["steps"]
    scripts = [step["with"]["script"] for step in steps if "github-script" in step.get("uses", "")]

    assert len(scripts) == 1
    assert f'const marker = "{MARKER}";' in scripts[0]
    assert "c.body.startsWith(marker)" in scripts[0]
    assert "updateComment" in scripts[0]


def test_ci_answers_every_push_quickly_and_runs_the_whole_suite_on_pull_requests_and_main():
    workflow = load("ci.yml")
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    triggers = workflow[True]
    jobs = workflow["jobs"]

    assert set(triggers) == {"push", "pull_request"}
    assert triggers["push"] is None, "pushes to every branch, not only some"
    assert jobs["quick"]["if"] == "github.event_name == 'push'"
    assert jobs["test"]["if"] == (
        "github.event_name == 'pull_request' || github.ref == 'refs/heads/main'"
    )
    runs = {name: [step.get("run") for step in job["steps"]] for name, job in jobs.items()}
    assert "make test-quick" in runs["quick"]
    assert "make test" in runs["test"]
    # Both on the machine the suites expect: PostgreSQL and the sample, from one action.
    for job in jobs.values():
        assert {"uses": "./.github/actions/test-machine"}.items() <= job["steps"][1].items()


def test_ci_run_calls_the_readme_test_command():
    command = next(c for c in readme_commands("## Quick start") if c.startswith("make test"))

    assert command == "make test"
    assert f'step "{command}" {command}' in (REPO_ROOT / ".ci/run").read_text(encoding="utf-8")
