"""Plots for notebook 11 (what CNNs do not do well): accuracy against a transformation, and cue-conflict bars.

Every function draws a new figure and returns it; arrays come to the host through :func:`cnnbook.viz.figure.host`.
"""
from __future__ import annotations

from cnnbook.course.language import tr
from cnnbook.viz.figure import host, pyplot
from cnnbook.viz.recipe import plot_curves


def plot_accuracy_curves(x, curves: dict, xlabel: str, title: str, chance=None, ylabel=None):
    """Lines of accuracy (0-1) against a transformation parameter, one per model.

    ``x``: the parameter values (e.g. angles in degrees; ``xlabel`` should carry the unit);
    ``curves``: ``{label: accuracies}``, one accuracy per ``x``; ``chance``: draws a dashed line there;
    ``ylabel`` defaults to "test accuracy".
    """
    ylabel = tr("test accuracy") if ylabel is None else ylabel
    x = host(x).astype(float).reshape(-1)
    for label, ys in curves.items():
        if len(host(ys).reshape(-1)) != len(x):
            raise ValueError(tr("curve {label!r} has {n} values for {n_x} x values; pass one per x", label=label,
                                n=len(host(ys).reshape(-1)), n_x=len(x)))
    fig = plot_curves({label: (x, ys) for label, ys in curves.items()}, title, xlabel, ylabel, markers=True,
                      hline=chance, hline_label=None if chance is None else tr("chance ({chance:.2f})", chance=chance))
    fig.axes[0].set_ylim(0, 1.02)
    return fig


def plot_cue_conflict(fractions: dict, title: str, chance=None):
    """Bars of fractions (0-1): e.g. ``{"follows texture": 0.9, "follows shape": 0.05, "neither": 0.05}``."""
    names = list(fractions)
    values = [float(host(fractions[n])) for n in names]
    fig, ax = pyplot().subplots(figsize=(5, 3.2))
    bars = ax.bar(names, values, color=["tab:orange", "tab:blue", "tab:gray", "tab:green"][:len(names)])
    for bar, v in zip(bars, values):
        ax.text(bar.get_x() + bar.get_width() / 2, v, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
    if chance is not None:
        ax.axhline(chance, color="gray", linestyle="--", linewidth=1, label=tr("chance ({chance:.2f})", chance=chance))
        ax.legend(fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(tr("what the prediction matches"))
    ax.set_ylabel(tr("fraction of test images"))
    ax.set_title(title)
    fig.tight_layout()
    return fig
