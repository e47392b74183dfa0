"""Plots: they accept arrays of either backend, show shapes, and carry titles, axis labels and units."""
import xml.etree.ElementTree as ET

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cnnbook import viz  # noqa: E402
from cnnbook.explore import output_size_report  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in (ax.title, ax.xaxis.label, ax.yaxis.label)] + \
        [fig._suptitle.get_text() if fig._suptitle else "", fig._supxlabel.get_text() if fig._supxlabel else ""]


def test_host_is_the_one_conversion(xp):
    a = xp.ones((2, 3), dtype=xp.float32)
    h = viz.host(a)
    assert type(h) is np.ndarray and h.shape == (2, 3)


def test_show_images_titles_carry_shapes_and_labels(xp):
    X = xp.asarray(np.random.default_rng(0).random((3, 1, 28, 28), dtype=np.float32))
    fig = viz.show_images(X, labels=np.array([0, 9, 1]), class_names=["shirt", "trouser"] + ["?"] * 7 + ["boot"])
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles == ["shirt\n(1, 28, 28)", "boot\n(1, 28, 28)", "trouser\n(1, 28, 28)"]
    assert "(3, 1, 28, 28)" in fig._suptitle.get_text()
    assert "pixels" in fig._supxlabel.get_text() and "pixels" in fig._supylabel.get_text()


def test_show_images_rgb_and_errors():
    fig = viz.show_images(np.random.default_rng(0).normal(size=(3, 8, 8)))  # one centred RGB image
    img = fig.axes[0].images[0].get_array()
    assert img.shape == (8, 8, 3) and img.min() >= 0 and img.max() <= 1
    with pytest.raises(ValueError, match="1 or 3 channels"):
        viz.show_images(np.zeros((2, 4, 8, 8)))
    with pytest.raises(ValueError, match="2 labels for 3 images"):
        viz.show_images(np.zeros((3, 1, 4, 4)), labels=[0, 1])


def test_show_activation_maps(xp):
    maps = xp.asarray(np.random.default_rng(1).normal(size=(1, 3, 10, 12)))
    fig = viz.show_activation_maps(maps, titles=["a", "b", "c"])
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 3 and shown[1].get_title() == "b\n(10, 12)"
    assert fig._supxlabel.get_text() == "column (pixels)" and fig._supylabel.get_text() == "row (pixels)"
    # comparable maps: one colour scale, one colour bar
    assert len({ax.images[0].get_clim() for ax in shown}) == 1
    bars = [ax for ax in fig.axes if not ax.images and ax.get_ylabel()]
    assert len(bars) == 1 and bars[0].get_ylabel() == "activation (a.u.)"
    assert "(3, 10, 12)" in fig._suptitle.get_text()
    own = viz.show_activation_maps(maps, shared=False)  # e.g. an input beside its map: a scale each
    assert len([ax for ax in own.axes if not ax.images and ax.get_ylabel()]) == 3
    with pytest.raises(ValueError, match="2 titles for 3 maps"):
        viz.show_activation_maps(maps, titles=["a", "b"])


def test_show_activation_maps_of_different_sizes(xp):
    maps = [xp.zeros((8, 8)), xp.zeros((4, 4)), xp.zeros((2, 2))]
    fig = viz.show_activation_maps(maps)
    assert [ax.images[0].get_array().shape for ax in fig.axes if ax.images] == [(8, 8), (4, 4), (2, 2)]
    assert "(8, 8), (4, 4), (2, 2)" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="2-D"):
        viz.show_activation_maps([xp.zeros((2, 8, 8))])


def test_show_filters_grey_and_rgb(xp):
    w = xp.asarray(np.arange(2 * 1 * 3 * 3, dtype=np.float64).reshape(2, 1, 3, 3) - 8)
    fig = viz.show_filters(w)
    assert len([ax for ax in fig.axes if ax.images]) == 2
    assert any(t.get_text() == "-8" for t in fig.axes[0].texts)  # values written on small kernels
    shown = [ax for ax in fig.axes if ax.images]
    assert {ax.images[0].get_clim() for ax in shown} == {(-9.0, 9.0)}  # one scale for all filters, with a bar
    assert any(ax.get_ylabel().startswith("weight") for ax in fig.axes if not ax.images)
    # numbers in black on pale cells and in white on dark ones
    colours = {t.get_text(): t.get_color() for ax in shown for t in ax.texts}
    assert colours["-8"] == "white" and colours["0"] == "black"
    named = viz.show_filters(w, names=["blur", "edge"])
    assert [ax.get_title().split("\n")[0] for ax in named.axes if ax.images] == ["blur", "edge"]
    fig = viz.show_filters(np.random.default_rng(0).normal(size=(4, 3, 5, 5)))
    assert [ax.images[0].get_array().shape for ax in fig.axes if ax.images] == [(5, 5, 3)] * 4
    with pytest.raises(ValueError, match=r"\(F, C, KH, KW\)"):
        viz.show_filters(np.zeros((2, 3, 3)))


def test_draw_receptive_field_rectangles_match_fields():
    fig = viz.draw_receptive_field([(3, 1), (3, 1), (2, 2)], input_size=16)
    ax = fig.axes[0]
    sizes = sorted(p.get_width() for p in ax.patches)
    assert sizes == [3, 5, 6]
    assert "6x6 pixels" in ax.get_title()
    assert ax.get_xlabel() == "input column (pixels)"
    # every field lies inside the one of the layer after it
    boxes = sorted(((p.get_x(), p.get_x() + p.get_width()) for p in ax.patches), key=lambda b: b[1] - b[0])
    for inner, outer in zip(boxes, boxes[1:]):
        assert outer[0] <= inner[0] and inner[1] <= outer[1]
    with pytest.raises(ValueError, match="outside the last layer"):
        viz.draw_receptive_field([(3, 1)], input_size=8, unit=6)


def test_draw_receptive_field_on_an_image(xp):
    img = xp.asarray(np.random.default_rng(0).random((20, 24)))
    fig = viz.draw_receptive_field([(5, 2), (3, 1)], image=img)
    assert fig.axes[0].images and fig.axes[0].images[0].get_array().shape == (20, 20)


def test_plot_receptive_field_growth():
    fig = viz.plot_receptive_field_growth({"3x3 stride 1": [(3, 1)] * 3, "with pooling": [(3, 1), (2, 2), (3, 1)]})
    ax = fig.axes[0]
    assert list(ax.lines[0].get_ydata()) == [1, 3, 5, 7]
    assert list(ax.lines[1].get_ydata()) == [1, 3, 4, 8]
    assert "pixels" in ax.get_ylabel() and ax.get_title()


def test_draw_pooling_marks_each_window_max(xp):
    x = xp.asarray(np.array([[1, 2, 0, 0], [3, 4, 0, 9], [0, 0, 5, 0], [8, 0, 0, 0]], dtype=np.float32))
    fig = viz.draw_pooling(x, 2)
    a0, a1 = fig.axes[:2]
    marks = sorted((int(line.get_xdata()[0]), int(line.get_ydata()[0])) for line in a0.lines)
    assert marks == [(0, 3), (1, 1), (2, 2), (3, 1)]  # (col, row) of 4, 9, 8, 5
    assert all(line.get_markerfacecolor() == "none" for line in a0.lines)  # rings: the numbers stay readable
    assert all(float(t).is_integer() for t in a0.get_xticks())  # pixel indices, no tick at -0.5 or 0.25
    assert len(a0.patches) == 4
    np.testing.assert_array_equal(a1.images[0].get_array(), [[4, 9], [8, 5]])
    assert "(4, 4) → (2, 2)" in fig._suptitle.get_text()
    assert all(ax.get_xlabel() == "column (pixels)" for ax in (a0, a1))


def test_plot_bars():
    fig = viz.plot_bars({"naive": 2.0, "fast": 0.01}, "time per forward pass", "time (s)", log=True)
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches] == [2.0, 0.01]
    assert ax.get_ylabel() == "time (s)" and ax.get_yscale() == "log"


def _svg_cells(svg, cls):
    root = ET.fromstring(svg)
    return [e for e in root.iter("{http://www.w3.org/2000/svg}rect") if cls in e.get("class", "").split()]


@pytest.mark.parametrize("W, K, S, P", [(7, 3, 1, 0), (7, 3, 2, 1), (8, 3, 2, 0), (5, 1, 1, 2), (3, 5, 1, 0)])
def test_draw_output_grid_counts(W, K, S, P):
    r = output_size_report(W, K, S, P)
    svg = viz.draw_output_grid(r)
    assert svg._repr_svg_() == str(svg)
    n = W + 2 * P
    assert len(_svg_cells(svg, "cnnbook-input-cell")) + len(_svg_cells(svg, "cnnbook-pad-cell")) == n * n
    assert len(_svg_cells(svg, "cnnbook-pad-cell")) == n * n - W * W
    assert len(_svg_cells(svg, "cnnbook-output-cell")) == r.output_size ** 2
    assert len(_svg_cells(svg, "cnnbook-kernel-cell")) == (K * K if r.output_size else 0)
    covered = n - r.dropped
    assert len(_svg_cells(svg, "cnnbook-dropped-cell")) == (n * n - covered * covered if r.output_size else 0)
    assert f"output {r.output_size}x{r.output_size}" in svg and "(pixels)" in svg


def test_draw_output_grid_moves_the_kernel():
    r = output_size_report(7, 3, 2, 1)
    last = _svg_cells(viz.draw_output_grid(r, position=15), "cnnbook-kernel-cell")
    first = _svg_cells(viz.draw_output_grid(r, position=0), "cnnbook-kernel-cell")
    assert min(float(e.get("x")) for e in last) > max(float(e.get("x")) for e in first)
    current = _svg_cells(viz.draw_output_grid(r, position=5), "cnnbook-output-current")
    assert len(current) == 1
    with pytest.raises(TypeError, match="OutputSizeReport"):
        viz.draw_output_grid({"output_size": 3})


def test_importing_viz_changes_no_settings():
    import importlib
    import sys
    before = dict(matplotlib.rcParams)
    for name in [m for m in sys.modules if m.startswith("cnnbook.viz")]:
        importlib.reload(sys.modules[name])
    assert dict(matplotlib.rcParams) == before


def test_live_loss_plot_shows_a_png_picture_from_the_first_call(monkeypatch):
    # A bare Figure handed to display() prints "<Figure size 1000x340 with 2 Axes>" in a kernel where no pyplot
    # figure was shown yet (and in the HTML export); the live plot must hand over a picture instead.
    import IPython
    import IPython.display

    from cnnbook.train import History
    from cnnbook.viz.training import LiveLossPlot
    shown = []

    class Handle:
        def update(self, obj):
            shown.append(obj)

    def display(obj, display_id=False):
        shown.append(obj)
        return Handle()

    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", display)
    plot = LiveLossPlot(interval=0)
    history = History()
    history.loss = [2.3, 2.0, 1.5]
    plot.update(history.loss, history, force=True)
    assert len(shown) == 2
    for obj in shown:
        assert isinstance(obj, IPython.display.Image) and obj.format == "png"
        assert obj.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_widget_pictures_are_drawn_at_twice_the_size_they_are_shown():
    # 80 dpi stretched to the output's width was blurry; now the <img> gets its CSS width, half the PNG's pixels.
    from cnnbook import widgets
    box = widgets.pooling_explorer(np.arange(64, dtype=np.float32).reshape(8, 8))
    png = bytes(box.drawing.value)
    width_px = int.from_bytes(png[16:20], "big")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int(box.drawing.width) == round(width_px / 2)
    assert 300 <= int(box.drawing.width) <= 1000  # about its size in inches at 96 CSS px per inch
    assert box.drawing.layout.max_width == "100%"


def test_output_grid_is_wide_enough_for_its_captions():
    from cnnbook.viz.grid import CHAR_WIDTH
    r = output_size_report(8, 3, 2, 0)  # does not fit: a third caption line names the dropped cells
    root = ET.fromstring(viz.draw_output_grid(r))
    width = float(root.get("width"))
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any("never covered" in t for t in texts)
    assert all(float(t.get("x")) + len(t.text) * CHAR_WIDTH <= width for t in root.iter("{http://www.w3.org/2000/svg}text")
               if t.get("transform") is None)


def test_show_gradient_field_draws_each_square_and_the_profile(xp):
    from cnnbook.viz.fields import show_gradient_field
    g = xp.zeros((40, 40), dtype=xp.float32)
    g[10:30, 10:30] = 1.0
    fig = show_gradient_field(g, {"theoretical field": (10, 10, 20), "half": (15, 15, 10)}, title="t")
    image_ax, profile = fig.axes[0], fig.axes[1]
    assert len(image_ax.patches) == 2 and "input column (pixels)" in _texts(fig)
    assert {t.get_text() for t in profile.get_legend().get_texts()} >= {"theoretical field: 20 px", "half: 10 px"}
    with pytest.raises(ValueError, match="one \\(H, W\\) map"):
        show_gradient_field(xp.zeros((2, 3, 4)), {"a": (0, 0, 1)})


def test_show_gradient_field_speaks_korean_in_the_korean_edition(monkeypatch):
    from cnnbook.course.language import ENV
    from cnnbook.viz.fields import show_gradient_field
    monkeypatch.setenv(ENV, "ko")
    g = np.zeros((40, 40), dtype=np.float32)
    g[10:30, 10:30] = 1.0
    fig = show_gradient_field(g, {"이론상 수용장": (10, 10, 20)})
    assert {"입력 열 (픽셀)", "유닛 중심을 지나는 단면", "|d 유닛 / d 입력|, 입력 40 x 40"} <= set(_texts(fig))
    assert {t.get_text() for t in fig.axes[1].get_legend().get_texts()} == {"20행", "이론상 수용장: 20픽셀"}
    assert not [t for t in _texts(fig) if "input" in t or "gradient" in t]
    plt.close(fig)
