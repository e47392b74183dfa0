"""``summary(model, input_shape)``: each layer's output shape and parameter count."""
from __future__ import annotations

import unicodedata

import numpy as np

from cnnbook import backend
from cnnbook.course.language import tr
from cnnbook.nn.base import Module
from cnnbook.nn.modules import Sequential


class Summary:
    """The table :func:`summary` returns: ``rows`` of ``(name, layer, output_shape, num_params)``."""

    def __init__(self, rows, input_shape, total_params):
        self.rows = rows
        self.input_shape = input_shape
        self.total_params = total_params

    def __repr__(self):
        head = (tr("layer"), tr("output shape"), tr("parameters"))
        text = lambda shape: "(" + ", ".join(map(str, shape)) + ")"  # noqa: E731  (N, 8, 14, 14)
        body = [(f"{name}: {layer}", text(shape), f"{n:,}") for name, layer, shape, n in self.rows]
        body.insert(0, (tr("input"), text(self.input_shape), ""))
        w = [max(_width(r[i]) for r in body + [head]) for i in range(3)]
        fmt = lambda r: "  ".join([_pad(r[0], w[0]), _pad(r[1], w[1]), _pad(r[2], w[2], right=True)])  # noqa: E731
        rule = "-" * (sum(w) + 4)
        return "\n".join([fmt(head), rule, *map(fmt, body), rule,
                          tr("total parameters: {count}", count=f"{self.total_params:,}")])


def _width(text: str) -> int:
    """Columns ``text`` takes in a monospaced font: Hangul (and other wide characters) take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` columns, on the right (or on the left when ``right``)."""
    space = " " * (width - _width(text))
    return space + text if right else text + space


def summary(model: Module, input_shape) -> Summary:
    """Each layer's output shape and parameter count for one input of shape ``input_shape`` (no N).

    Runs one forward pass on zeros (on the model's backend and dtype); the layers of a
    :class:`Sequential` get one row each, any other module one row in all.
    ``print(summary(model, (1, 28, 28)))`` shows the table; ``.total_params`` the total.
    """
    shape = tuple(int(s) for s in input_shape)
    params = model.parameters()
    xp = backend.get_array_module(params[0].data) if params else backend.default_xp()
    dtype = params[0].data.dtype if params else np.float32
    x = xp.zeros((1,) + shape, dtype=dtype)
    rows = []
    steps = list(model.named_children()) if isinstance(model, Sequential) else [("0", model)]
    for name, layer in steps:
        x = layer(x)
        rows.append((name, repr(layer).split("\n")[0].rstrip("("), ("N",) + tuple(x.shape[1:]),
                     layer.num_parameters()))
    return Summary(rows, ("N",) + shape, model.num_parameters())
