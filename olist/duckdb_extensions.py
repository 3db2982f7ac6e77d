"""Install DuckDB's httpfs extension offline, from the `duckdb-extension-httpfs` pip package.

DuckDB normally downloads extensions from extensions.duckdb.org the first time they are loaded.
This project pins `duckdb-extension-httpfs` (same version as `duckdb`) instead, which ships the
httpfs binary inside site-packages. `install_httpfs_offline()` copies that binary into DuckDB's
extension directory (by default under ~/.duckdb) once, so a plain `LOAD httpfs` works afterwards
without network access. `make setup` runs this module: `python -m olist.duckdb_extensions`.
"""

from __future__ import annotations

import sys
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

import duckdb

from olist.sql import sql_string

EXTENSION = "httpfs"
PACKAGE = "duckdb-extension-httpfs"
MODULE = "duckdb_extension_httpfs"


class ExtensionError(RuntimeError):
    """The httpfs binary cannot be found or does not match the installed duckdb."""


def _duckdb_version() -> str:
    return metadata.version("duckdb")


def httpfs_extension_file() -> Path:
    """Return the httpfs binary shipped by `duckdb-extension-httpfs` for the installed duckdb."""
    duckdb_version = _duckdb_version()
    try:
        package_version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        raise ExtensionError(
            f"The {PACKAGE} package is not installed (duckdb is {duckdb_version}); "
            "run `make setup` to install the locked dependencies."
        ) from None
    if package_version != duckdb_version:
        raise ExtensionError(
            f"{PACKAGE} {package_version} does not match duckdb {duckdb_version}; "
            "both must be the same version. Run `make setup` to install the locked versions."
        )
    spec = find_spec(MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(
            f"{PACKAGE} {package_version} is recorded as installed but its module {MODULE!r} "
            "cannot be imported; run `make setup` to reinstall it."
        )
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    path = package_dir / "extensions" / f"v{duckdb_version}" / f"{EXTENSION}.duckdb_extension"
    if not path.is_file():
        raise ExtensionError(
            f"{PACKAGE} {package_version} ships no httpfs binary for duckdb {duckdb_version} "
            f"(expected {path}); run `make setup` to reinstall it."
        )
    return path


def _installed_path(con: duckdb.DuckDBPyConnection) -> Path | None:
    """Where httpfs is installed for this duckdb version, or None if it is not installed."""
    row = con.execute(
        "SELECT installed, install_path FROM duckdb_extensions() WHERE extension_name = ?",
        [EXTENSION],
    ).fetchone()
    if row is None or not row[0] or not row[1]:
        return None
    path = Path(row[1])
    # DuckDB keeps one extension directory per version (…/extensions/v1.5.5/<platform>/).
    if f"v{_duckdb_version()}" not in path.parts or not path.is_file():
        return None
    return path


def install_httpfs_offline(
    con: duckdb.DuckDBPyConnection | None = None, *, force: bool = False
) -> None:
    """Install httpfs from the pip-shipped binary, unless it is already installed.

    Uses `con` (so its `extension_directory` setting applies) or a temporary in-memory
    connection. Idempotent: does nothing when httpfs is already installed for this version,
    unless `force` is set (used to replace an installed copy that fails to load).
    """
    own_connection = con is None
    connection = duckdb.connect() if con is None else con
    try:
        if not force and _installed_path(connection) is not None:
            return
        source = httpfs_extension_file()
        connection.execute(f"FORCE INSTALL {sql_string(str(source))}")
    finally:
        if own_connection:
            connection.close()


def main() -> int:
    """Install httpfs offline, then prove it loads; print one line saying so."""
    try:
        source = httpfs_extension_file()
        with duckdb.connect() as con:
            install_httpfs_offline(con)
            try:
                con.execute(f"LOAD {EXTENSION}")
            except duckdb.Error:
                # An existing copy (e.g. downloaded earlier, or corrupt) does not load: replace it.
                install_httpfs_offline(con, force=True)
                con.execute(f"LOAD {EXTENSION}")
            installed = _installed_path(con)
    except (ExtensionError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"{EXTENSION} {_duckdb_version()} installed offline from {source}"
        + (f" (at {installed})" if installed else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
