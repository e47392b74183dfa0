"""Interactive explorers: thin ipywidgets shells over the plain functions in :mod:`cnnbook.explore`.

Each explorer returns a ``VBox`` with CSS class ``cnnbook-<name>`` and three attributes tests use:
``controls`` (a dict of the input widgets, each with class ``cnnbook-<control>``), ``result``
(an ``HTML`` widget with class ``cnnbook-result`` holding the numbers and sentences) and ``drawing``
(an ``HTML`` widget holding SVG, or an ``Image`` holding a matplotlib figure as PNG; class ``cnnbook-drawing``).
Callbacks compute on the default backend (NumPy or CuPy); plots bring arrays to the host in ``cnnbook.viz``.
Every label and sentence goes through :func:`cnnbook.course.language.tr`: the Korean edition shows them in Korean
(dropdowns and toggle buttons show translated labels for the same values, e.g. ``explore.KERNELS``' keys).
"""
from __future__ import annotations

from html import escape

import ipywidgets as W

from cnnbook import backend, explore, viz
from cnnbook.course.language import tr
from cnnbook.layers.checks import whole_number


def _slider(name: str, description: str, value: int, lo: int, hi: int):
    # A slider clamps a value outside lo..hi without a word; an explorer's argument is refused instead.
    arg = name.replace("-", "_")
    value = whole_number(value, arg)
    if not lo <= value <= hi:
        raise ValueError(tr("{arg}={value} is outside this explorer's range {lo}..{hi}; pick a value in it "
                            "(for other numbers, call the plain functions in cnnbook.explore)", arg=arg,
                            value=value, lo=lo, hi=hi))
    s = W.IntSlider(value=value, min=lo, max=hi, description=description,
                    style={"description_width": "initial"}, continuous_update=True)
    s.add_class(f"cnnbook-{name}")
    return s


def _html(cls: str, value: str = ""):
    h = W.HTML(value=value)
    h.add_class(cls)
    return h


def _image():
    img = W.Image(format="png", layout=W.Layout(max_width="100%", height="auto"))
    img.add_class("cnnbook-drawing")
    return img


def _box(name: str, children, controls: dict, result, drawing):
    box = W.VBox(children)
    box.add_class(f"cnnbook-{name}")
    box.controls, box.result, box.drawing = controls, result, drawing
    return box


CSS_PX_PER_INCH = 96  # how browsers size an inch; a figure is shown at its size in inches
PIXEL_RATIO = 2       # drawn at twice that, so it stays sharp on high-density (retina) screens too


def _show(image, fig):
    """Show ``fig`` as a PNG in the ``Image`` widget (works in any kernel, testable), then free it.

    The PNG is drawn at ``PIXEL_RATIO`` times the resolution it is shown at, and the ``<img>`` is given its
    size in CSS pixels (figure inches x 96), so the browser shrinks it crisply and never stretches it."""
    import io

    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=CSS_PX_PER_INCH * PIXEL_RATIO, bbox_inches="tight", pad_inches=0.05)
    plt.close(fig)
    png = buf.getvalue()
    width_px = int.from_bytes(png[16:20], "big")  # the PNG header's width
    image.value = png
    image.width = str(round(width_px / PIXEL_RATIO))


def _error(result, exc: Exception):
    result.value = f'<span class="cnnbook-error" style="color:#b00">{escape(str(exc))}</span>'


# ---------------------------------------------------------------- notebook 00
def hello_widget():
    """A first widget: move the kernel size and watch the output size of a stride-1 convolution."""
    controls = {"input_size": _slider("input-size", tr("input size (pixels)"), 7, 3, 12),
                "kernel_size": _slider("kernel-size", tr("kernel size (pixels)"), 3, 1, 7)}
    result = _html("cnnbook-result")

    def update(_=None):
        try:
            r = explore.output_size_report(controls["input_size"].value, controls["kernel_size"].value)
            result.value = (tr("A {K}x{K} kernel fits in {out} positions along each side of a {W}x{W} image: "
                               "output <b>{out} x {out}</b> = {W} - {K} + 1", K=r.kernel_size, out=r.output_size,
                               W=r.input_size)
                            if r.numerator >= 0 else escape(r.message))
        except (TypeError, ValueError) as exc:
            _error(result, exc)

    for c in controls.values():
        c.observe(update, names="value")
    update()
    return _box("hello", [*controls.values(), result], controls, result, None)


# ---------------------------------------------------------------- stride / padding / output size
def output_size_explorer(input_size=7, kernel_size=3, stride=1, padding=0, dilation=1):
    """The centrepiece: sliders for W, K, S, P (and dilation); draws the padded input, the kernel
    at one output position, the output grid and the formula; says when the stride does not fit."""
    controls = {"input_size": _slider("input-size", tr("input size W"), input_size, 1, 16),
                "kernel_size": _slider("kernel-size", tr("kernel size K"), kernel_size, 1, 7),
                "stride": _slider("stride", tr("stride S"), stride, 1, 4),
                "padding": _slider("padding", tr("padding P"), padding, 0, 4),
                "dilation": _slider("dilation", tr("dilation D"), dilation, 1, 3),
                "position": _slider("position", tr("kernel position"), 0, 0, 0)}
    fix = W.Button(description=tr("use the first suggestion"), disabled=True, layout=W.Layout(width="auto"))
    fix.add_class("cnnbook-apply-suggestion")
    controls["fix"] = fix
    result = _html("cnnbook-result")
    drawing = _html("cnnbook-drawing")
    state = {}

    def update(_=None):
        try:
            r = explore.output_size_report(*(controls[k].value for k in
                                             ("input_size", "kernel_size", "stride", "padding", "dilation")))
        except (TypeError, ValueError) as exc:
            return _error(result, exc)
        state["report"] = r
        pos = controls["position"]
        pos.max = max(r.output_size ** 2 - 1, 0)  # may clamp .value, which calls update again
        result.value = (f'<div class="cnnbook-formula"><code>{escape(r.formula)}</code></div>'
                        f'<div class="cnnbook-message">{escape(r.message)}</div>')
        if r.fits:
            result.remove_class("cnnbook-does-not-fit")
        else:
            result.add_class("cnnbook-does-not-fit")
        fix.disabled = not r.suggestions
        drawing.value = viz.draw_output_grid(r, min(pos.value, pos.max))

    def apply_suggestion(_):
        r = state.get("report")
        if r is not None and r.suggestions:
            p, s, _ = r.suggestions[0]
            controls["padding"].value, controls["stride"].value = p, s

    for k in ("input_size", "kernel_size", "stride", "padding", "dilation", "position"):
        controls[k].observe(update, names="value")
    fix.on_click(apply_suggestion)
    update()
    sliders = W.VBox([controls[k] for k in ("input_size", "kernel_size", "stride", "padding", "dilation",
                                            "position")] + [fix])
    return _box("output-size-explorer", [sliders, result, drawing], controls, result, drawing)


# ---------------------------------------------------------------- kernels
def kernel_explorer(image, preset="vertical edge"):
    """Pick a preset 3x3 kernel or edit its numbers; see the activation map of the grey ``image``
    ``(H, W)`` change. The image is moved to the default backend once, here."""
    image = backend.to_device(image)
    if getattr(image, "ndim", None) != 2:
        raise ValueError(tr("image must be a grey (H, W) array, got shape {shape}; "
                            "average the colour channels first, e.g. photo.mean(axis=0)",
                            shape=getattr(image, "shape", None)))
    if preset not in explore.KERNELS:
        raise ValueError(tr("unknown preset {preset!r}; choose one of {choices}", preset=preset,
                            choices=", ".join(explore.KERNELS)))
    # the learner reads the labels; the values (and so .value) stay KERNELS' keys
    choose = W.Dropdown(options=[(explore.kernel_label(name), name) for name in explore.KERNELS], value=preset,
                        description=tr("preset"))
    choose.add_class("cnnbook-kernel-preset")
    text = W.Textarea(value=explore.kernel_text(explore.KERNELS[preset]), description=tr("kernel"),
                      layout=W.Layout(width="260px", height="80px"))
    text.add_class("cnnbook-kernel-text")
    controls = {"preset": choose, "kernel": text}
    result = _html("cnnbook-result")
    drawing = _image()

    def on_preset(change):
        text.value = explore.kernel_text(explore.KERNELS[change["new"]])

    def update(_=None):
        try:
            k = explore.parse_kernel(text.value)
            amap = explore.activation_map(image, k, padding=k.shape[0] // 2)
        except (TypeError, ValueError) as exc:
            return _error(result, exc)
        lo, hi = float(amap.min()), float(amap.max())
        result.value = tr("activation map shape {shape}, values from {lo:.3g} to {hi:.3g}; {explanation}",
                          shape=tuple(amap.shape), lo=lo, hi=hi, explanation=escape(explore.explain_kernel(k)))
        xp = backend.get_array_module(amap)
        _show(drawing, viz.show_activation_maps(xp.stack([image, amap]),
                                                titles=[tr("input (grey)"), tr("activation map")],
                                                ncols=2, size=3.6, title=tr("kernel explorer"), shared=False))

    choose.observe(on_preset, names="value")
    text.observe(update, names="value")
    update()
    return _box("kernel-explorer", [W.HBox([choose, text]), result, drawing], controls, result, drawing)


# ---------------------------------------------------------------- receptive field
def receptive_field_explorer(layers="3,1 3,1 3,1", input_size=16):
    """Build a stack of (kernel, stride) layers and see the field of the middle unit on the input.

    ``layers``: text such as ``"3,1 3,1 2,2"`` or a list of ``(kernel_size, stride)`` pairs."""
    stack = explore.parse_layers(layers) if isinstance(layers, str) else explore.check_layers(layers)
    if not stack:
        raise ValueError(tr("layers is empty; pass at least one (kernel_size, stride) pair, e.g. [(3, 1)]"))
    spec = W.Text(value=layers if isinstance(layers, str) else " ".join(f"{k},{s}" for k, s in stack),
                  description=tr("layers (kernel,stride)"), style={"description_width": "initial"})
    spec.add_class("cnnbook-layers")
    kernel = _slider("kernel-size", tr("kernel"), 3, 1, 7)
    stride = _slider("stride", tr("stride"), 1, 1, 3)
    add = W.Button(description=tr("add layer"))
    add.add_class("cnnbook-add-layer")
    remove = W.Button(description=tr("remove last"))
    remove.add_class("cnnbook-remove-layer")
    size = _slider("input-size", tr("input size (pixels)"), input_size, 4, 64)
    controls = {"layers": spec, "kernel_size": kernel, "stride": stride, "add": add, "remove": remove,
                "input_size": size}
    result = _html("cnnbook-result")
    drawing = _image()

    def update(_=None):
        try:
            stack = explore.parse_layers(spec.value)
            steps = explore.receptive_field_growth(stack)
            explore.output_length(size.value, stack)
            fig = viz.draw_receptive_field(stack, input_size=size.value)
        except (TypeError, ValueError) as exc:
            return _error(result, exc)
        rows = "".join(f"<tr><td>{s.layer}</td><td>{s.kernel_size}</td><td>{s.stride}</td>"
                       f"<td>{s.field}</td><td>{s.jump}</td></tr>" for s in steps)
        headers = "".join(f"<th>{escape(h)}</th>" for h in (tr("layer"), tr("kernel"), tr("stride"),
                                                               tr("field (px)"), tr("jump (px)")))
        result.value = ('<div class="cnnbook-field">'
                        + tr("receptive field after {n} layer(s): <b>{field} x {field}</b> input pixels",
                             n=len(steps), field=steps[-1].field)
                        + f"</div><table><tr>{headers}</tr>{rows}</table>")
        _show(drawing, fig)

    def on_add(_):
        spec.value = (spec.value.strip() + f" {kernel.value},{stride.value}").strip()

    def on_remove(_):
        pairs = spec.value.split()
        spec.value = " ".join(pairs[:-1]) if len(pairs) > 1 else spec.value

    spec.observe(update, names="value")
    size.observe(update, names="value")
    add.on_click(on_add)
    remove.on_click(on_remove)
    update()
    top = W.VBox([spec, W.HBox([kernel, stride, add, remove]), size])
    # the picture beside its table, so controls, picture and numbers fit on one screen
    return _box("receptive-field-explorer", [top, W.HBox([drawing, result])], controls, result, drawing)


# ---------------------------------------------------------------- pooling
def pooling_explorer(x, kernel_size=2, stride=2, mode="max"):
    """Window and stride sliders, max or average, on a 2-D activation map ``x`` ``(H, W)``."""
    if getattr(x, "ndim", None) != 2:
        raise ValueError(tr("x must be a 2-D map (H, W), got {kind} of shape {shape}", kind=type(x).__name__,
                            shape=getattr(x, "shape", None)))
    if mode not in ("max", "avg"):
        raise ValueError(tr("mode must be 'max' or 'avg', got {mode!r}", mode=mode))
    x = backend.to_device(x)
    kernel = _slider("kernel-size", tr("window"), kernel_size, 1, 4)
    step = _slider("stride", tr("stride"), stride, 1, 4)
    how = W.ToggleButtons(options=[(explore.pooling_mode(m), m) for m in ("max", "avg")], value=mode,
                          description=tr("pooling"))
    how.add_class("cnnbook-pool-mode")
    controls = {"kernel_size": kernel, "stride": step, "mode": how}
    result = _html("cnnbook-result")
    drawing = _image()

    def update(_=None):
        try:
            _, info = explore.pool_map(x, kernel.value, step.value, how.value)
            fig = viz.draw_pooling(x, kernel.value, step.value, how.value,  # the numbers are in the text below
                                   title=tr("{mode} pooling, window {k}, stride {s}",
                                            mode=explore.pooling_mode(how.value), k=kernel.value, s=step.value))
        except (TypeError, ValueError) as exc:
            return _error(result, exc)
        result.value = escape(info["text"])
        _show(drawing, fig)

    for c in controls.values():
        c.observe(update, names="value")
    update()
    return _box("pooling-explorer", [W.HBox([kernel, step, how]), result, drawing], controls, result, drawing)
