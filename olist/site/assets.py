"""The Vega, Vega-Lite and Vega-Embed JavaScript the pages load, shipped beside them.

vl-convert carries the libraries in its wheel, so nothing is downloaded, ever. Bundling them takes
about 1.5 s, a third of the site's build, while the result only changes with vl-convert's
version: the file's name carries that version, and a build copies it from the previous site
when it is there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ASSETS_FOLDER = "assets"


def vega_bundle_name() -> str:
    """The bundle's file name inside the assets folder, versioned by vl-convert."""
    import vl_convert

    return f"vega-embed-vl-convert-{vl_convert.__version__}.js"


def write_vega_bundle(assets: Path, previous_site: Path) -> str:
    """Write the bundle into `assets` (a copy of the previous site's when it has the same one);
    returns its file name."""
    name = vega_bundle_name()
    target = assets / name
    previous = previous_site / ASSETS_FOLDER / name
    if previous.is_file():
        shutil.copyfile(previous, target)
        return name
    import vl_convert

    # Without a snippet, the bundle sets window.vegaEmbed, vega and vegaLite: a classic script,
    # which Chromium loads from file:// (a module script it would refuse there).
    target.write_text(vl_convert.javascript_bundle(), encoding="utf-8")
    return name
