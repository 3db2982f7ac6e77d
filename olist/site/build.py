"""`olist docs`: build the static site from the warehouse and the SQLMesh project.

The SQLMesh project is loaded once (without its unit tests, which only a plan runs) and its
connection to the warehouse, read-only, serves every query. The site is written into a hidden
folder beside the target and swapped into place at the end (olist/output_folder.py): a failed
build leaves the previous site as it was. A folder that is not a site built here is never
replaced.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olist.config import Settings
from olist.errors import PipelineError
from olist.output_folder import replaced_whole

if TYPE_CHECKING:
    from olist.site.catalog import ModelDoc
    from olist.site.quality import Quality
    from olist.site.report import Chart, KeyFigure

SITE_MARK = ".olist-site"  # written into every site, so a rebuild knows it may replace the folder
TEMPLATES = Path(__file__).parent / "templates"
REQUIRED_MART = "marts.key_figures"  # the newest mart the site reads


@dataclass(frozen=True)
class _Contents:
    """What the pages show, read while the warehouse was open."""

    models: list[ModelDoc]
    figures: list[KeyFigure]
    charts: list[Chart]
    quality: Quality
    graph: dict[str, Any]


@dataclass(frozen=True)
class SiteOutcome:
    index: Path
    pages: int
    seconds: float


def _check_output(out: Path) -> None:
    if out.exists() and (
        not out.is_dir() or (any(out.iterdir()) and not (out / SITE_MARK).exists())
    ):
        raise PipelineError(
            f"{out} exists and is not a site `olist docs` built, so it was left alone: remove "
            "it, or build the site elsewhere with `olist docs --out DIR`"
        )


def build_site(settings: Settings, out: Path) -> SiteOutcome:
    """Write the site into `out` (replaced whole) from the warehouse at settings.warehouse_path."""
    started = time.perf_counter()
    warehouse = settings.warehouse_path.resolve()
    if not warehouse.is_file():
        raise PipelineError(f"no warehouse at {warehouse}: run `olist run` first")
    _check_output(out)
    contents = _read(settings, warehouse)
    with replaced_whole(out) as folder:
        pages = _write(folder, out, contents)
    return SiteOutcome(
        index=out.resolve() / "index.html", pages=pages, seconds=time.perf_counter() - started
    )


def _read(settings: Settings, warehouse: Path) -> _Contents:
    """Everything the pages show, read while the warehouse is open (and only then)."""
    import duckdb
    from sqlmesh.utils.errors import SQLMeshError

    from ingest.tables import TABLES
    from olist.site.catalog import model_docs
    from olist.site.graph import graph_chart, model_graph
    from olist.site.lineage import column_lineage
    from olist.site.quality import data_quality
    from olist.site.report import key_figures, report_charts
    from olist.warehouse.build import PROJECT_DIR, project_context

    context = project_context(PROJECT_DIR, with_unit_tests=False, read_only=True)
    try:
        adapter = context.engine_adapter
        if not adapter.table_exists(REQUIRED_MART):
            raise PipelineError(
                f"the warehouse at {warehouse} has no {REQUIRED_MART}: run `olist run` to bring "
                "it up to date with the project's models"
            )
        models = list(context.models.values())
        lineage = column_lineage(models, {model.fqn: model.name for model in models})
        docs = model_docs(context, PROJECT_DIR, lineage)
        return _Contents(
            models=docs,
            figures=key_figures(adapter.fetchdf),
            charts=report_charts(adapter.fetchdf),
            quality=data_quality(settings, adapter, adapter.fetchdf, docs),
            graph=graph_chart(model_graph(docs, [table.name for table in TABLES])),
        )
    except (SQLMeshError, duckdb.Error) as error:
        raise PipelineError(
            f"could not read the warehouse at {warehouse} for the site: {error}. Close any "
            "program holding it (a `sqlmesh ui`, a DuckDB shell) and run `olist docs` again."
        ) from None
    finally:
        # Release the warehouse file (DuckDB allows one writer). Context.close() leaves the
        # connection the site queried through open, and a later open of the file in this process
        # (the next `olist run` in the same Python) would fail on its read-only attachment.
        context.engine_adapter.close()
        context.close()


def _write(folder: Path, out: Path, contents: _Contents) -> int:
    """Render every page into `folder`; returns how many pages it wrote."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    from olist.site.assets import ASSETS_FOLDER, write_vega_bundle
    from olist.site.catalog import LAYERS

    assets = folder / ASSETS_FOLDER
    assets.mkdir()
    shutil.copyfile(TEMPLATES / "site.css", assets / "site.css")
    common = {
        "vega_bundle": write_vega_bundle(assets, previous_site=out),
        "built_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "models": contents.models,
    }
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )

    def page(template: str, path: Path, root: str, title: str, **values: object) -> None:
        html = env.get_template(template).render(root=root, title=title, **common, **values)
        path.write_text(html, encoding="utf-8")

    report_charts = contents.charts
    page(
        "index.html",
        folder / "index.html",
        "",
        "Report",
        figures=contents.figures,
        report_charts=report_charts,
        charts={chart.id: chart.spec for chart in report_charts},
    )
    page(
        "quality.html",
        folder / "quality.html",
        "",
        "Data quality",
        quality=contents.quality,
        charts={},
    )
    models = folder / "models"
    models.mkdir()
    page(
        "models.html",
        models / "index.html",
        "../",
        "Models",
        layers=LAYERS,
        charts={"model-graph": contents.graph},
    )
    for model in contents.models:
        page("model.html", models / model.page, "../", model.name, model=model, charts={})
    (folder / SITE_MARK).write_text("Built by `olist docs`; replaced whole by the next build.\n")
    return 3 + len(contents.models)
