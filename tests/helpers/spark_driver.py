"""The Spark side of tests/warehouse/test_warehouse_spark.py, in one process of its own: one JVM
for the whole module (starting Spark is the slow part), and SQLMesh's config.yaml rendered from
exactly the `OLIST_*` environment the test gives it (`OLIST_GATEWAY=spark`).

    python spark_driver.py <project> <steps.json> <results.json>

<project> is a copy of the repository's SQLMesh project (config, models, macros, audits, unit
tests) that a step may edit: the repository's own files stay untouched while other tests read
them.

Each step is one of:

- `{"do": "plan"}`: plan prod; records whether it failed and SQLMesh's error;
- `{"do": "run", "add": [[source, target], ...]}`: copy lake files in, then a run of prod as
  `olist run` does (olist.warehouse.build._run_prod);
- `{"do": "dump", "to": dir}`: every staging, intermediate and mart table of prod written to
  `dir/<schema>.<table>.parquet`, for the test to compare with DuckDB's;
- `{"do": "edit", "file": path, "replace": [old, new]}`: a project file edited (a model broken
  on purpose) and the project reloaded.
"""

from __future__ import annotations

import json
import shutil
import sys
import traceback
from pathlib import Path

LAYERS = ("staging", "intermediate", "marts")


def main(project: str, steps_file: str, results_file: str) -> int:
    from sqlmesh import Context
    from sqlmesh.core.console import configure_console

    configure_console()  # SQLMesh's own report of a failed model or audit, into the output
    steps = json.loads(Path(steps_file).read_text())
    results: list[dict] = []
    context = Context(paths=project)
    try:
        for step in steps:
            if step["do"] == "plan":
                results.append(_plan(context))
            elif step["do"] == "run":
                for source, target in step["add"]:
                    Path(target).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, target)
                from olist.warehouse.build import _run_prod

                _run_prod(context)
                results.append({"do": "run", "failed": False})
            elif step["do"] == "dump":
                results.append(_dump(context, Path(step["to"])))
            elif step["do"] == "edit":
                file = Path(project) / step["file"]
                old, new = step["replace"]
                text = file.read_text()
                if old not in text:
                    raise SystemExit(f"{file} has no {old!r} to replace")
                file.write_text(text.replace(old, new))
                context.load()
                results.append({"do": "edit"})
    finally:
        Path(results_file).write_text(json.dumps(results))
        context.close()
    return 0


def _plan(context) -> dict:
    try:
        context.plan("prod", auto_apply=True, no_prompts=True, skip_tests=True)
    except Exception as error:  # the test asserts on the failure and its message
        return {"do": "plan", "failed": True, "error": f"{error}\n{traceback.format_exc()}"}
    return {"do": "plan", "failed": False}


def _dump(context, folder: Path) -> dict:
    spark = context.engine_adapter.spark
    folder.mkdir(parents=True, exist_ok=True)
    tables = []
    for layer in LAYERS:
        for row in spark.sql(f"SHOW VIEWS IN {layer}").collect():
            name = f"{layer}.{row.viewName}"
            spark.table(name).coalesce(1).write.parquet(str(folder / f"{name}.parquet"))
            tables.append(name)
    return {"do": "dump", "tables": tables}


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
