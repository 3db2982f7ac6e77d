"""The README's commands, as its ```bash blocks write them: what the README tests run and the
workflow tests check the CI against."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands(heading: str) -> list[str]:
    """The command lines of the README's ```bash blocks under `heading`, up to the next heading
    of the same or a higher level (a `## ` section includes its `### ` subsections)."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n{heading}\n", 1)[1]
    level = heading.split(" ", 1)[0]  # "##" or "###"
    for marker in {"##": ("\n## ",), "###": ("\n## ", "\n### ")}[level]:
        section = section.split(marker, 1)[0]
    blocks = section.split("```bash\n")[1:]
    lines = [line for block in blocks for line in block.split("```", 1)[0].splitlines()]
    return [line.split("  #", 1)[0].strip() for line in lines if line.strip()]
