"""The static site (`olist docs`) on the session's warehouse of the real sample, opened in a real
headless Chromium from file:// with the network off."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from helpers.readme import readme_commands
from helpers.warehouse import REPO_ROOT, VENV_BIN, Warehouse, clean_environment, run_olist

from olist.site.browser import chromium, open_offline

# Each of these reads the session's built warehouse.
pytestmark = pytest.mark.slow

# Kept after the run, for a person to look at (data/ is git-ignored).
ARTIFACT = REPO_ROOT / "data" / "test-artifacts" / "site-report.png"
MODEL_SCHEMAS = ("staging", "intermediate", "marts")


@pytest.fixture(scope="module")
def site_env(local_warehouse: Warehouse) -> dict[str, str]:
    return {**local_warehouse.lake.env, **local_warehouse.env}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, site_env: dict[str, str]) -> Path:
    """The site built once for the module from the session's warehouse."""
    work = tmp_path_factory.mktemp("site")
    result = run_olist(site_env, "docs", "--out", str(work / "site"), cwd=work)
    assert f"Site: {work / 'site' / 'index.html'}" in result.stdout
    return work / "site"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        with chromium() as browser:
            yield browser
    except FileNotFoundError as error:
        pytest.fail(str(error), pytrace=False)


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def _drawn_marks(page) -> dict[str, int]:
    """For every chart on the page, how many items its data marks drew with a size on screen
    (axes, legends and titles not counted). A bar needs a width and a height: one from zero on
    a log scale is drawn 0 wide; a line or a rule needs one of them."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll("div.chart")].map((chart) => {
            const items = chart.querySelectorAll("svg g.role-mark:not(.mark-group) > *");
            const drawn = [...items].filter((item) => {
                const box = item.getBBox();
                const isBar = item.parentElement.classList.contains("mark-rect");
                return isBar ? box.width > 0 && box.height > 0 : box.width > 0 || box.height > 0;
            });
            return [chart.id, drawn.length];
        }))"""
    )


def test_every_page_opens_offline_without_console_errors(site: Path, browser) -> None:
    pages = _pages(site)
    assert len(pages) > 40
    for page_file in pages:
        opened = open_offline(browser, page_file)
        assert opened.console_errors == [], page_file
        assert opened.outside_requests == [], page_file
        opened.page.context.close()


def test_every_chart_draws_marks(site: Path, browser) -> None:
    report = open_offline(browser, site / "index.html")
    marks = _drawn_marks(report.page)
    assert set(marks) == {
        "monthly-sales",
        "order-status",
        "delivery",
        "categories",
        "payment-mix",
        "cohorts",
        "top-sellers",
    }
    assert all(count > 0 for count in marks.values()), marks
    # The order status chart draws one bar per status the mart holds.
    assert marks["order-status"] == 7
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    report.page.screenshot(path=str(ARTIFACT), full_page=True)
    assert ARTIFACT.stat().st_size > 100_000  # a drawn report, not a blank page

    graph = open_offline(browser, site / "models" / "index.html")
    assert _drawn_marks(graph.page)["model-graph"] > 40


def test_key_figures_on_the_report_equal_the_mart(
    site: Path, browser, local_warehouse: Warehouse
) -> None:
    with local_warehouse.connect() as con:
        row = con.sql(
            "SELECT order_count, revenue, average_order_value, late_delivery_share, "
            "repeat_customer_share FROM marts.key_figures"
        ).fetchone()
    expected = dict(
        zip(
            [
                "order_count",
                "revenue",
                "average_order_value",
                "late_delivery_share",
                "repeat_customer_share",
            ],
            row,
            strict=True,
        )
    )
    page = open_offline(browser, site / "index.html").page
    shown = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll(".figure")].map((figure) => [
            figure.dataset.column,
            [figure.dataset.value, figure.querySelector("dd").innerText],
        ]))"""
    )
    assert {column: Decimal(value) for column, (value, _) in shown.items()} == expected
    assert shown["order_count"][1] == f"{expected['order_count']:,}" == "20,864"
    assert shown["revenue"][1] == f"R$ {expected['revenue']:,.2f}"
    assert shown["late_delivery_share"][1] == f"{expected['late_delivery_share'] * 100:.1f} %"


def test_every_model_has_its_page(site: Path, local_warehouse: Warehouse) -> None:
    with local_warehouse.connect() as con:
        tables = con.sql(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            f"WHERE table_schema IN {MODEL_SCHEMAS}"
        ).fetchall()
    models = {name for (name,) in tables}
    assert len(models) > 35
    pages = {path.stem for path in (site / "models").glob("*.html")} - {"index"}
    assert pages == models
    index = (site / "models" / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{model}.html"' in index for model in models)


def test_lineage_of_fct_orders_revenue_reaches_item_price_and_freight(site: Path, browser) -> None:
    page = open_offline(browser, site / "models" / "marts.fct_orders.html").page
    sources = page.inner_text("tr#revenue td.sources")
    lake = page.inner_text("tr#revenue td.lake-sources").split()
    assert "intermediate.int_order_items_rolled_up.items_value" in sources
    assert "lake.order_items.price" in lake
    assert "lake.order_items.freight_value" in lake
    # One step up: the rolled-up items' value comes from staging's item price.
    page.click("tr#revenue td.sources a:has-text('items_value')")
    assert page.url.endswith("intermediate.int_order_items_rolled_up.html#items_value")
    assert "staging.stg_order_items.price" in page.inner_text("tr#items_value td.sources")


def test_quality_page_counts_rows_per_layer_as_the_warehouse_does(
    site: Path, browser, local_warehouse: Warehouse
) -> None:
    with local_warehouse.connect() as con:
        fct_orders = con.sql("SELECT count(*) FROM marts.fct_orders").fetchone()[0]
    page = open_offline(browser, site / "quality.html").page
    rows = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll("#layer-rows tbody tr")]
            .map((row) => [
                row.cells[1].innerText,
                [row.cells[0].innerText, row.cells[2].innerText],
            ]))"""
    )
    assert rows["marts.fct_orders"] == ["gold", f"{fct_orders:,}"]
    assert rows["raw.orders"] == ["bronze", f"{fct_orders:,}"]
    assert rows["staging.stg_orders"][0] == "silver"
    # The session's warehouse was planned by hand with `sqlmesh plan`, not by `olist run`: no
    # update recorded its end, so the page cannot claim the audits passed.
    assert "did not finish" in page.inner_text("#audits")


def test_a_failed_build_says_why_and_keeps_the_previous_site(
    tmp_path: Path, site_env: dict[str, str]
) -> None:
    out = tmp_path / "site"
    run_olist(site_env, "docs", "--out", str(out), cwd=tmp_path)
    before = (out / "index.html").read_bytes()
    missing = tmp_path / "nowhere.duckdb"
    result = subprocess.run(
        [str(VENV_BIN / "olist"), "docs", "--out", str(out)],
        cwd=tmp_path,
        env=clean_environment({**site_env, "OLIST_WAREHOUSE_PATH": str(missing)}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: no warehouse at {missing}: run `olist run` first"
    assert (out / "index.html").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    assert os.listdir(out)


def test_readme_site_commands_work_as_written(
    tmp_path: Path, site_env: dict[str, str], local_warehouse: Warehouse
) -> None:
    make_docs, olist_docs, screenshot = readme_commands("## See the data: the static site")
    assert (make_docs, screenshot) == ("make docs", "make docs-screenshot")
    env = clean_environment({**site_env, "OLIST_DATA_DIR": str(tmp_path / "data")})
    made = subprocess.run(
        make_docs.split(), cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert made.returncode == 0, made.stdout + made.stderr
    assert (tmp_path / "data" / "site" / "models" / "marts.fct_orders.html").is_file()
    # The README's own folder, as written (a rerun replaces the site it built there).
    command = olist_docs.split()
    ran = subprocess.run(
        [str(VENV_BIN / command[0].rsplit("/", 1)[1]), *command[1:]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert Path(command[-1], "index.html").is_file()
    # The screenshot target only adds the browser to `make docs` (it rewrites docs/report.png,
    # which the README shows, so it is not run here).
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "docs-screenshot: docs\n\t$(VENV)/bin/python -m olist.site.browser" in makefile
