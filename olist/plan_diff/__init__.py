"""`olist plan-diff`: what a change to the SQLMesh project does to the warehouse's data.

A reviewer of a pull request sees the SQL; this shows the data. Everything happens in a
throwaway work folder (`<data dir>/plan-diff/` by default), never in the developer's staging
database, lake or warehouse:

1. a small data set (generated at scale 0.01 unless `--source` names one) is ingested and
   exported into the work folder's own staging file and lake;
2. prod is built from the base commit (`git archive`) into the work folder's warehouse, with
   SQLMesh's state in the same file (the `local` gateway). It is kept for the next run while the
   base commit and the data set stay the same (`base.json` records both);
3. the working tree, as git sees it (uncommitted and untracked files included, ignored ones not),
   is planned into a development environment `pr_<branch>` and applied: SQLMesh builds only the
   changed models and those downstream of them; prod's tables and views are not touched;
4. what SQLMesh knows about the change is collected: each modified model's change category and
   SQL diff, the intervals to backfill, the unit tests of the modified models, the audits of the
   models built, and for every directly modified model a data diff against prod on its grain
   (SQLMesh's table_diff).

`result` holds what this finds and `report` writes it as Markdown; `run` runs the steps, with
`repository` (git), `work_folder`, `changes`, `data_diff` and `recording_console`.

The base and the working tree are placed at the same path in turn (`<work>/project`): SQLMesh
fingerprints a model with its macros' globals, so anything path-dependent in them would make an
unchanged model look modified if the two projects lived in different folders.
"""
