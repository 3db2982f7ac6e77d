"""The throwaway folder `olist plan-diff` works in, and what lives where in it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from olist.config import Settings
from olist.errors import PipelineError

_OWNER_FILE = ".olist-plan-diff"
_OWNER_TEXT = (
    "Throwaway work folder of `olist plan-diff`: a small data set, its lake, a warehouse whose "
    "prod is built from the base commit, and the latest report. Safe to delete.\n"
)


class WorkFolder:
    """The throwaway folder a plan diff works in, and what lives where in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.project = root / "project"  # the SQLMesh project being planned
        self.source = root / "source"  # the generated data set
        self.lake = root / "lake"
        self.warehouse = root / "warehouse.duckdb"
        # The warehouse as it was once prod was built from the base: every run starts from a copy,
        # so no environment or table of an earlier run changes what this one plans or builds.
        # Same file name: DuckDB names the catalog after it, and SQLMesh's views use that name.
        self.built_prod = root / "base" / "warehouse.duckdb"
        self.no_dotenv = root / "empty.env"  # keeps the project's .env away from SQLMesh
        self.report = root / "report.md"
        self._base_file = root / "base.json"

    @property
    def settings(self) -> Settings:
        """Bronze settings of the work folder's own staging file and lake."""
        return Settings(
            staging_url=f"duckdb:///{self.root / 'staging.duckdb'}",
            lake_url=str(self.lake),
            data_dir=self.root,
            s3=None,
        )

    def claim(self) -> None:
        """Create the folder, or check that an existing one is a plan-diff folder."""
        owned = (self.root / _OWNER_FILE).is_file()
        if self.root.exists() and any(self.root.iterdir()) and not owned:
            raise PipelineError(
                f"{self.root} exists and is not a plan-diff work folder (no {_OWNER_FILE}); "
                "its content would be deleted. Pass --work with a new or empty folder."
            )
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / _OWNER_FILE).write_text(_OWNER_TEXT, encoding="utf-8")

    def base_state(self) -> dict[str, str] | None:
        """What prod was built from, if a complete prod is there."""
        if not (self._base_file.is_file() and self.built_prod.is_file()):
            return None
        return json.loads(self._base_file.read_text(encoding="utf-8"))

    def keep_prod(self, state: dict[str, str]) -> None:
        """Keep the warehouse SQLMesh just built prod in, and what it was built from."""
        self.built_prod.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(self.warehouse, self.built_prod)
        self._base_file.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")

    def restore_prod(self) -> None:
        """Put back the warehouse as it was right after prod was built."""
        shutil.copy2(self.built_prod, self.warehouse)

    def reset(self) -> None:
        """Empty the folder but for its owner file."""
        for path in self.root.iterdir():
            if path.name == _OWNER_FILE:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
