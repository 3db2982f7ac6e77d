"""What a warehouse run has not processed yet: the lake's new files and each model's watermark.

A daily run must cost what the new data costs, and SQLMesh's intervals follow the clock, not the
data: a load that arrives late, or two loads on one day, would be missed or re-read. So what is
new is decided by data. Each run that finds complete exports in the lake it has not seen opens a
**batch**: the ledger `staging.lake_files` records their files with the batch number (1, 2, ...).
Every incremental model stamps the rows it writes with `_batch`:

- a row version (`staging.stg_<table>_versions`) carries the batch of the load it came from;
- every other row carries the batch of the run that last rewrote it, `@current_batch()`.

A model's **watermark** is the greatest `_batch` in its own table: it has consumed every upstream
row stamped up to it. A run therefore reads upstream rows with `_batch > @watermark()`, and since
each model's evaluation is one transaction that runs only after its parents succeeded, a failed
run loses nothing: the next run's watermark is still the old one, and it reads a little more.

When a model's table is being rebuilt (its first build, a restatement, a new dev table, a unit
test without `test_watermark`, every run of a FULL model: the key-grain models on Spark,
macros/engine.py) `@rebuilding()` is TRUE and the model computes everything, as
SQLMesh then replaces the whole table with the query's result. The test is SQLMesh's own for a
first insert (`SnapshotEvaluator.evaluate`: no intervals, or no table).

Audits check the rows the run wrote: `condition := _batch = @current_batch()` (the rows a
rebuild writes all carry the current batch, so a rebuild is checked whole).

The lookups run while SQLMesh renders a model for evaluation, through its engine adapter, and are
inlined as literals: no query reads the table it writes, which Spark could not overwrite. While
SQLMesh loads the project (no engine), they render fixed placeholders, so fingerprints do not
change with the data.
"""

from __future__ import annotations

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator, RuntimeStage

from macros.sql import fetchall, table_exists

# The ledger of lake files: which complete exports the warehouse has taken in, in which batch.
LEDGER = "staging.lake_files"


def evaluating(evaluator: MacroEvaluator) -> bool:
    """True when the model is rendered to run against the warehouse (not while the project loads,
    a unit test runs or an audit is rendered)."""
    return evaluator.runtime_stage in (RuntimeStage.CREATING.value, RuntimeStage.EVALUATING.value)


def is_rebuilding(evaluator: MacroEvaluator) -> bool:
    """Whether this evaluation replaces the model's whole table (see the module docstring)."""
    if evaluator.runtime_stage == RuntimeStage.TESTING.value:
        return evaluator.var("test_watermark") is None
    if not evaluating(evaluator):
        return True
    return _looked_up(evaluator, "rebuilding", lambda: _table_is_new(evaluator))


def watermark_of(evaluator: MacroEvaluator) -> int:
    """The last batch the model has consumed: the greatest `_batch` in its table, 0 when
    rebuilding. Under test, the `test_watermark` variable."""
    if evaluator.runtime_stage == RuntimeStage.TESTING.value:
        return int(evaluator.var("test_watermark") or 0)
    if is_rebuilding(evaluator):
        return 0
    return _looked_up(
        evaluator, "watermark", lambda: greatest(evaluator, "_batch", evaluator.this_model)
    )


def _table_is_new(evaluator: MacroEvaluator) -> bool:
    table = evaluator.this_model
    if not table_exists(evaluator, table):
        return True
    snapshot = evaluator.get_snapshot(evaluator.this_model_fqn)
    if snapshot is None or snapshot.model.kind.is_full:
        return True
    # A forward-only change previewed in a dev environment writes the snapshot's dev table,
    # whose intervals SQLMesh keeps apart.
    deployable_table = exp.to_table(snapshot.table_name(is_deployable=True)).name
    intervals = (
        snapshot.intervals
        if exp.to_table(table, dialect=evaluator.dialect).name == deployable_table
        else snapshot.dev_intervals
    )
    return not intervals


def _looked_up(evaluator: MacroEvaluator, name: str, look_up):
    """`look_up()`, once per rendering: a model calls these macros several times, and SQLMesh
    renders each model with an evaluator of its own, so the answer cannot go stale."""
    answers = evaluator.__dict__.setdefault("_olist_incremental_answers", {})
    if name not in answers:
        answers[name] = look_up()
    return answers[name]


def greatest(evaluator: MacroEvaluator, column: str, table: str) -> int:
    """The greatest value of a batch column in a table, 0 when the table is empty or not there
    yet (SQLMesh renders a query once to create its table, before any parent has run)."""
    if not table_exists(evaluator, table):
        return 0
    ((value,),) = fetchall(evaluator, f"SELECT COALESCE(MAX({column}), 0) FROM {table}")
    return int(value)


@macro()
def rebuilding(evaluator: MacroEvaluator) -> exp.Boolean:
    """`WHERE @rebuilding() OR key IN (...)`: TRUE when the model's whole table is recomputed."""
    return exp.Boolean(this=is_rebuilding(evaluator))


@macro()
def keeps_emptied_keys(evaluator: MacroEvaluator, measure: exp.Expression) -> exp.Expression:
    """`WHERE @keeps_emptied_keys(order_count)`: whether rows of keys the run emptied are written.

    A key-grain model replaces the rows of the keys a run touched. A key left with nothing (a
    person whose only order moved to another) gets a marker row, its `measure` NULL, so that the
    stale row is replaced; `@delete_emptied_keys` then deletes the markers. A rebuild has no stale
    row to replace and writes no marker (and Spark, where these models are always rebuilt,
    cannot DELETE).
    """
    if not is_rebuilding(evaluator):
        return exp.true()
    return exp.not_(exp.Is(this=measure, expression=exp.null()))


@macro()
def delete_emptied_keys(
    evaluator: MacroEvaluator, measure: exp.Expression
) -> exp.Expression | None:
    """Post-statement `@delete_emptied_keys(order_count);`: deletes the markers an incremental run
    wrote (see `@keeps_emptied_keys`); nothing after a rebuild."""
    if is_rebuilding(evaluator):
        return None
    where = exp.Is(this=measure, expression=exp.null())
    return exp.delete(evaluator.this_model, where=where, dialect=evaluator.dialect)


@macro()
def watermark(evaluator: MacroEvaluator) -> exp.Literal:
    """`_batch > @watermark()`: the last batch this model has consumed (0 when rebuilding).

    Under test, the `test_watermark` variable plays the model's table, to test the incremental
    form of its query.
    """
    return exp.Literal.number(watermark_of(evaluator))


@macro()
def current_batch(evaluator: MacroEvaluator) -> exp.Literal:
    """`@current_batch() AS _batch`: the batch of this run, the ledger's greatest. The model must
    list `staging.lake_files` in its depends_on: SQLMesh resolves only a model's parents."""
    if evaluator.runtime_stage == RuntimeStage.TESTING.value:
        return exp.Literal.number(evaluator.var("test_current_batch") or 1)
    # Audits check the rows of this run: `condition := _batch = @current_batch()`.
    if not evaluating(evaluator) and evaluator.runtime_stage != RuntimeStage.AUDITING.value:
        return exp.Literal.number(0)
    ledger = evaluator.resolve_table(LEDGER)
    return exp.Literal.number(
        _looked_up(evaluator, "current_batch", lambda: greatest(evaluator, "batch", ledger))
    )


@macro()
def next_batch(evaluator: MacroEvaluator) -> exp.Literal:
    """`@next_batch() AS batch`: in the ledger, the batch this run opens (1 when rebuilding)."""
    if evaluator.runtime_stage == RuntimeStage.TESTING.value:
        return exp.Literal.number(evaluator.var("test_current_batch") or 1)
    if is_rebuilding(evaluator):
        return exp.Literal.number(1)
    return exp.Literal.number(greatest(evaluator, "batch", evaluator.this_model) + 1)
