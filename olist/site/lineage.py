"""Column-level lineage: for every column of every model, the columns it is computed from, back to
the bronze lake's columns.

SQLMesh's `lineage` (sqlglot's, on the model's rendered and qualified query, cached per model)
gives each column's sources in the models it reads. The staging `_versions` models read the lake
through a macro (`@read_new_loads('orders')`) that renders, outside a run, as an empty relation
of the lake table's columns: a source there is a column of that lake table, shown as
`lake.<table>.<column>`. sqlglot cannot follow some queries (a `UNION ALL BY NAME` matches
columns by name, its lineage by position): such a column says so instead of guessing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from olist.warehouse.row_counts import STAGING_MODELS

LAKE = "lake"
VERSIONS_SUFFIX = "_versions"
# The `_versions` model of each lake table (bronze table names, as the lake's folders).
_LAKE_TABLE_OF_VERSIONS = {
    f"staging.{model}{VERSIONS_SUFFIX}": table for table, model in STAGING_MODELS.items()
}


@dataclass(frozen=True, order=True)
class ColumnRef:
    """A column of a model (`marts.fct_orders`) or of a lake table (`lake.order_items`)."""

    table: str
    column: str

    @property
    def is_lake(self) -> bool:
        return self.table.startswith(f"{LAKE}.")

    def __str__(self) -> str:
        return f"{self.table}.{self.column}"


@dataclass
class Lineage:
    """Every model column's direct sources; `untraced` holds the columns sqlglot could not follow
    and why."""

    sources: dict[ColumnRef, frozenset[ColumnRef]] = field(default_factory=dict)
    untraced: dict[ColumnRef, str] = field(default_factory=dict)

    def lake_sources(self, column: ColumnRef) -> frozenset[ColumnRef]:
        """The lake columns `column` is computed from, through every model in between."""
        return self._lake_sources(column, {})

    def _lake_sources(
        self, column: ColumnRef, memo: dict[ColumnRef, frozenset[ColumnRef]]
    ) -> frozenset[ColumnRef]:
        if column.is_lake:
            return frozenset({column})
        if column not in memo:
            memo[column] = frozenset()  # a cycle cannot happen in a DAG; this guards anyway
            memo[column] = frozenset(
                lake
                for source in self.sources.get(column, ())
                for lake in self._lake_sources(source, memo)
            )
        return memo[column]


def column_lineage(models: Iterable, names: Mapping[str, str]) -> Lineage:
    """The lineage of every column of `models` (SQLMesh models); `names` maps a model's fully
    qualified name to the `schema.model` name the site uses."""
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlmesh.core.lineage import lineage

    result = Lineage()
    for model in models:
        if model.columns_to_types is None:
            continue
        lake_table = _LAKE_TABLE_OF_VERSIONS.get(model.name)
        for column in model.columns_to_types:
            ref = ColumnRef(model.name, column)
            try:
                node = lineage(exp.to_identifier(column), model, trim_selects=False)
            except SqlglotError as error:
                result.untraced[ref] = str(error).splitlines()[0]
                continue
            sources: set[ColumnRef] = set()
            for leaf in node.walk():
                if leaf.downstream:
                    continue
                table = leaf.expression.find(exp.Table)
                name = exp.to_column(leaf.name).name
                if table is not None:
                    fqn = exp.table_name(table, identify=True)
                    parent = names.get(fqn)
                    if parent is not None:
                        sources.add(ColumnRef(parent, name))
                elif lake_table is not None and "." in leaf.name:
                    sources.add(ColumnRef(f"{LAKE}.{lake_table}", name))
            result.sources[ref] = frozenset(sources)
    return result
