"""The docs: what the site says about each model, read from the SQLMesh project.

A model's description is its table comment (the `/* ... */` before its MODEL block), its columns'
comments the inline ones; grain, kind, cron and audits come from the MODEL block, the unit test
is `tests/models/<schema>/test_<model>.yaml` (the layout the SQLMesh linter's rule enforces),
and the upstream and downstream models come from the project's DAG.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from olist.site.lineage import ColumnRef, Lineage

LAYERS = ("staging", "intermediate", "marts")
LAYER_NAMES = {"staging": "silver", "intermediate": "silver", "marts": "gold"}
_TEST_NAME = re.compile(r"^([A-Za-z_]\w*):\s*$")  # a top-level key of a unit-test file


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    type: str
    comment: str
    sources: tuple[ColumnRef, ...]  # the columns it is computed from, in the models it reads
    lake_sources: tuple[ColumnRef, ...]  # the bronze lake columns at the end of every path
    untraced: str | None  # why sqlglot could not trace it, when it could not


@dataclass(frozen=True)
class ModelDoc:
    name: str  # schema.model
    schema: str
    description: str
    grain: tuple[str, ...]
    kind: str
    cron: str
    columns: tuple[ColumnDoc, ...]
    audits: tuple[str, ...]  # each as it is written in the MODEL block
    unit_test: str | None  # the test file, relative to the project
    unit_test_names: tuple[str, ...]
    upstream: tuple[str, ...]
    downstream: tuple[str, ...]

    @property
    def page(self) -> str:
        return f"{self.name}.html"


def _audit_text(name: str, arguments: dict) -> str:
    args = ", ".join(f"{key} := {value.sql()}" for key, value in arguments.items())
    return f"{name}({args})" if args else name


def _unit_tests(project: Path, schema: str, model: str) -> tuple[str | None, tuple[str, ...]]:
    """The model's unit-test file and its tests' names: the file's top-level keys (read as lines;
    parsing all the YAML files took a third of the site's build)."""
    path = project / "tests" / "models" / schema / f"test_{model}.yaml"
    if not path.is_file():
        return None, ()
    lines = path.read_text(encoding="utf-8").splitlines()
    names = tuple(m.group(1) for line in lines if (m := _TEST_NAME.match(line)))
    return str(path.relative_to(project)), names


def model_docs(context, project: Path, lineage: Lineage) -> list[ModelDoc]:
    """Every model of the project, by layer then name."""
    models = list(context.models.values())
    names = {model.fqn: model.name for model in models}
    downstream: dict[str, set[str]] = {model.name: set() for model in models}
    for model in models:
        for parent in model.depends_on:
            if parent in names:
                downstream[names[parent]].add(model.name)
    dialect = context.default_dialect
    docs = []
    for model in models:
        schema, table = model.name.split(".", 1)
        test_file, test_names = _unit_tests(project, schema, table)
        columns = []
        for column, data_type in (model.columns_to_types or {}).items():
            ref = ColumnRef(model.name, column)
            columns.append(
                ColumnDoc(
                    name=column,
                    type=data_type.sql(dialect=dialect),
                    comment=model.column_descriptions.get(column, ""),
                    sources=tuple(sorted(lineage.sources.get(ref, ()))),
                    lake_sources=tuple(sorted(lineage.lake_sources(ref))),
                    untraced=lineage.untraced.get(ref),
                )
            )
        docs.append(
            ModelDoc(
                name=model.name,
                schema=schema,
                description=model.description or "",
                grain=tuple(grain.sql(dialect=dialect) for grain in model.grains),
                kind=model.kind.name,
                cron=model.cron,
                columns=tuple(columns),
                audits=tuple(_audit_text(name, args) for name, args in model.audits),
                unit_test=test_file,
                unit_test_names=test_names,
                upstream=tuple(sorted(names[p] for p in model.depends_on if p in names)),
                downstream=tuple(sorted(downstream[model.name])),
            )
        )
    return sorted(docs, key=lambda doc: (LAYERS.index(doc.schema), doc.name))
