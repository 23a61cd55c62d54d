"""The ``zoning`` command line: a thin click layer over the library (one module per command)."""

from __future__ import annotations

import click

from .._version import __version__
from .errors import OneLineGroup
from .options import configure_logging


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zoning")
@click.option("-v", "--verbose", count=True, help="More log output (repeatable).")
@click.option("-q", "--quiet", count=True, help="Less log output (repeatable).")
def main(verbose: int, quiet: int) -> None:
    """Screen project sites against Shanghai's ecological zoning.

    The bundled layers are DEMONSTRATION data, not the official red line.
    """
    configure_logging(verbose, quiet)


def _register() -> None:
    from .compare import compare_cmd
    from .demo import demo
    from .diff import diff_cmd
    from .index import index
    from .indicators import indicators
    from .layers import layers
    from .map import map_cmd
    from .publish import publish
    from .raster import rasterize_cmd, zonal_cmd
    from .screen import screen_cmd
    from .seeds import seeds
    from .serve import serve

    for command in (
        layers,
        seeds,
        indicators,
        screen_cmd,
        compare_cmd,
        diff_cmd,
        map_cmd,
        publish,
        rasterize_cmd,
        zonal_cmd,
        serve,
        demo,
        index,
    ):
        main.add_command(command)


_register()
