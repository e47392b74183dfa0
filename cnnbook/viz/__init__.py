"""Plots for the workbook (matplotlib and SVG); arrays come back to the host in one place, :func:`host`.

Core plots are re-exported here (what every figure shares is in :mod:`cnnbook.viz.figure`); topic modules
(``cnnbook.viz.training``, ``cnnbook.viz.limits``) are imported explicitly where they are used. Importing this
package changes no matplotlib settings.
"""
from cnnbook.viz.core import (
    draw_pooling,
    draw_receptive_field,
    plot_bars,
    plot_receptive_field_growth,
    show_activation_maps,
    show_filters,
    show_images,
)
from cnnbook.viz.figure import host
from cnnbook.viz.grid import SvgDrawing, draw_output_grid

__all__ = ["draw_output_grid", "draw_pooling", "draw_receptive_field", "host", "plot_bars",
           "plot_receptive_field_growth", "show_activation_maps", "show_filters", "show_images",
           "SvgDrawing"]
