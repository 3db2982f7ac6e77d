"""The static site `olist docs` writes: the marts as charts, the warehouse's docs with column-level
lineage, and data quality, in plain files that open from `file://` with no network.

One module per job: `build` (the entry point: gathers everything and writes the folder whole),
`report` (the index's key figures and charts, read from marts), `quality` (rows per layer,
quarantined rows, audits, freshness), `catalog` (a page per model), `lineage` (column-level
lineage through sqlglot), `graph` (the model graph as a chart) and `assets` (the Vega bundle).
"""
