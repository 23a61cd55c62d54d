"""The ``zoning`` command line: a thin click layer over the library (one module per command).

Each command's module is imported only when that command runs (or its help is shown), so
``zoning screen`` does not pay for the imports of ``zoning publish`` or ``zoning serve``, and
``zoning --help`` lists the commands from :data:`COMMANDS` without importing any of them.
"""

from __future__ import annotations

import gc
import importlib
import sys

import click

from .._version import __version__
from .errors import OneLineGroup
from .options import configure_logging

#: Every command: name -> (module under ``zoning.cli``, its attribute, its short help).  The
#: short help is the first paragraph of the command's docstring (a test holds them equal).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "compare": (
        "compare",
        "compare_cmd",
        "Rank alternative sites or routes of one project (each site of SITES is one alternative).",
    ),
    "demo": (
        "demo",
        "demo",
        "Run the main job on the demonstration data: check every layer, measure the "
        "indicators, screen the bundled example projects and compare the example route "
        "alternatives.",
    ),
    "diff": (
        "diff",
        "diff_cmd",
        "Compare two screening output folders A (before) and B (after) of the same sites.",
    ),
    "index": ("index", "index", "Prepared layers and indexes kept between runs (the index cache)."),
    "indicators": (
        "indicators",
        "indicators",
        "Measure red line, development boundary, farmland, water, green space and "
        "control-unit composition for the city and each district, against the targets in "
        "seeds/targets.yml.",
    ),
    "layers": ("layers", "layers", "List, check and load constraint layers."),
    "map": (
        "map",
        "map_cmd",
        "Write an interactive map page: every catalog layer styled by kind and category, "
        "or, with --screening DIR, the sites of a screening coloured by verdict with their "
        "reasons.",
    ),
    "publish": (
        "publish",
        "publish",
        "Build the public map pages into OUT_DIR: an index with the layers, their provenance "
        "and the city indicators, the overview map, one page per district (map, layer areas, "
        "indicators), and the layers as GeoJSON and GeoPackage downloads — in Chinese and "
        "English.",
    ),
    "rasterize": (
        "raster",
        "rasterize_cmd",
        "Rasterize the control units and constraint layers to a Cloud-Optimized GeoTIFF.",
    ),
    "screen": (
        "screen",
        "screen_cmd",
        "Screen project sites against the zoning layers and the access-list rules.",
    ),
    "seeds": (
        "seeds",
        "seeds",
        "List the policy targets (red line area, forest cover, parks, ...) with their sources.",
    ),
    "serve": (
        "serve",
        "serve",
        "Serve screening over HTTP: a JSON API (OpenAPI at /docs), OGC API - Processes and "
        "a web page at /.",
    ),
    "zonal": (
        "raster",
        "zonal_cmd",
        "Zonal statistics of RASTER by control unit, district or polygon layer of the catalog.",
    ),
}


def _import_quietly(name: str):
    """Import a command's module with the garbage collector paused, then freeze what exists.

    Importing numpy, pandas, geopandas and pydantic makes a few million objects that live as
    long as the process; without this, the collector walks them on each full collection
    during the imports and again during the run (~50 ms each on a slow machine).
    :func:`gc.freeze` leaves them out of every later collection.  Done once per module.
    """
    if name in sys.modules:
        return sys.modules[name]
    enabled = gc.isenabled()
    gc.disable()
    try:
        return importlib.import_module(name)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


class LazyGroup(OneLineGroup):
    """A :class:`OneLineGroup` whose commands are imported on first use, from :data:`COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, sorted, without importing any.

        Parameters
        ----------
        ctx : click.Context
            The group's context.

        Returns
        -------
        list of str
        """
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, its module imported on first use.

        Parameters
        ----------
        ctx : click.Context
            The group's context.
        cmd_name : str
            The command's name.

        Returns
        -------
        click.Command or None
            ``None`` for an unknown name (click reports it).
        """
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attribute, _ = COMMANDS[cmd_name]
            command = getattr(_import_quietly(f"{__name__}.{module}"), attribute)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The help's command list, as click writes it, from :data:`COMMANDS`' short help.

        Parameters
        ----------
        ctx : click.Context
            The group's context.
        formatter : click.HelpFormatter
            Where the list is written.

        Returns
        -------
        None
        """
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name)
            if command is not None:
                if not command.hidden:
                    rows.append((name, command.get_short_help_str(limit)))
            else:
                # click's own shortening, on a stand-in holding the first paragraph
                stand_in = click.Command(name, help=COMMANDS[name][2])
                rows.append((name, stand_in.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zoning")
@click.option("-v", "--verbose", count=True, help="More log output (repeatable).")
@click.option("-q", "--quiet", count=True, help="Less log output (repeatable).")
def main(verbose: int, quiet: int) -> None:
    """Screen project sites against Shanghai's ecological zoning.

    The bundled layers are DEMONSTRATION data, not the official red line.
    """
    configure_logging(verbose, quiet)
