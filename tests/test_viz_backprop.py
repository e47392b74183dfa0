"""Pictures of backward passes (cnnbook.viz.backprop): what each figure writes matches the package's backward
passes, the frames sit where the equation in the title says, bad shapes are refused, and the figures read well."""
import matplotlib
import numpy as np
import pytest
from figure_lint import lint_figure

from cnnbook.course.exercises.references import im2col
from cnnbook.layers import conv2d_backward, conv2d_forward, max_pool2d_backward, max_pool2d_forward
from cnnbook.viz.backprop import draw_dw_correlation, draw_dx_full_convolution, draw_im2col, draw_max_pool_routing

matplotlib.use("Agg")


def _conv_case():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, (1, 1, 5, 5)).astype(float)
    w = rng.integers(-2, 3, (1, 1, 3, 3)).astype(float)
    out, cache = conv2d_forward(x, w, np.zeros(1))
    dout = rng.integers(-2, 3, out.shape).astype(float)
    dx, dw, _ = conv2d_backward(dout, cache)
    return x[0, 0], w[0, 0], dout[0, 0], dx[0, 0], dw[0, 0]


def _frames(ax):
    """(row, col, height, width) of the coloured frames of a table panel."""
    from matplotlib.patches import Rectangle
    return [(round(p.get_y() + 0.5), round(p.get_x() + 0.5), round(p.get_height()), round(p.get_width()))
            for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]


def test_dx_picture_writes_the_backward_pass_value_and_frames_the_window():
    x, w, dout, dx, _ = _conv_case()
    for at in [(0, 0), (1, 2), (4, 4)]:
        fig = draw_dx_full_convolution(dout, w, dx, at=at)
        assert f"dx[{at[0]}, {at[1]}] = sum(red window of padded dout times flipped w) = {dx[at]:.4g}" in \
            fig._suptitle.get_text()
        padded_ax, _, _, dx_ax = fig.axes
        assert _frames(padded_ax) == [(at[0], at[1], 3, 3)] and _frames(dx_ax) == [(at[0], at[1], 1, 1)]
        assert lint_figure(fig) == []
        matplotlib.pyplot.close(fig)
    with pytest.raises(ValueError, match="full convolution"):
        draw_dx_full_convolution(dout, w, dx[:4])
    with pytest.raises(ValueError, match="outside"):
        draw_dx_full_convolution(dout, w, dx, at=(5, 0))


def test_dw_picture_writes_the_backward_pass_value():
    x, w, dout, _, dw = _conv_case()
    for at in [(0, 0), (1, 0), (2, 2)]:
        fig = draw_dw_correlation(x, dout, dw, at=at)
        assert f"dw[{at[0]}, {at[1]}] = sum(red window of x times dout) = {dw[at]:.4g}" in fig._suptitle.get_text()
        assert _frames(fig.axes[0]) == [(at[0], at[1], 3, 3)]
        assert lint_figure(fig) == []
        matplotlib.pyplot.close(fig)
    with pytest.raises(ValueError, match="correlated"):
        draw_dw_correlation(x, dout, dw[:2])
    with pytest.raises(ValueError, match="2-D"):
        draw_dw_correlation(x[None], dout, dw)


def test_im2col_picture_frames_each_window_and_its_column():
    x = np.arange(20.0).reshape(1, 1, 4, 5)
    cols = im2col(x, 3, 1, 1)[0]                      # (9, 20)
    fig = draw_im2col(x[0, 0], cols, 3, stride=1, padding=1, windows=[(0, 0), (1, 2)])
    image_ax, cols_ax = fig.axes
    assert _frames(image_ax) == [(0, 0, 3, 3), (1, 2, 3, 3)]
    assert _frames(cols_ax) == [(0, 0, 9, 1), (0, 7, 9, 1)]      # column i * Wo + j with Wo = 5
    assert lint_figure(fig) == []
    matplotlib.pyplot.close(fig)
    with pytest.raises(ValueError, match="gives"):
        draw_im2col(x[0, 0], cols[:, :10], 3, padding=1)
    with pytest.raises(ValueError, match="output positions"):
        draw_im2col(x[0, 0], cols, 3, padding=1, windows=[(4, 0)])


def test_max_pool_routing_tints_the_winners_the_backward_pass_chose():
    from matplotlib.patches import Rectangle
    x = np.array([[[[1., 2., 0., 5.], [4., 3., 6., 1.], [0., 7., 2., 2.], [1., 1., 3., 8.]]]])
    out, cache = max_pool2d_forward(x, 2)
    dout = np.array([[[[10., 20.], [30., 40.]]]])
    dx = max_pool2d_backward(dout, cache)
    fig = draw_max_pool_routing(x[0, 0], dout[0, 0], dx[0, 0], kernel_size=2)
    dx_ax = fig.axes[2]
    tinted = {(round(p.get_y() + 0.5), round(p.get_x() + 0.5)) for p in dx_ax.patches
              if isinstance(p, Rectangle) and p.get_facecolor()[3] < 1}
    assert tinted == {tuple(ij) for ij in np.argwhere(dx[0, 0] != 0)}
    assert len(_frames(fig.axes[0])) == 4
    assert lint_figure(fig) == []
    matplotlib.pyplot.close(fig)
    with pytest.raises(ValueError, match="needs dout"):
        draw_max_pool_routing(x[0, 0], dout[0, 0, :1], dx[0, 0])
    with pytest.raises(ValueError, match="at most"):
        draw_max_pool_routing(np.zeros((8, 8)), np.zeros((4, 4)), np.zeros((8, 8)))


def test_the_backprop_pictures_speak_korean_in_the_korean_edition(monkeypatch):
    """Every word a picture draws itself is looked up in the catalog: in Korean, the titles and axes are Korean
    (the numbers the same), and nothing overlaps or is cut off."""
    import re

    from cnnbook.course.language import ENV
    monkeypatch.setenv(ENV, "ko")
    x, w, dout, dx, dw = _conv_case()
    xi = np.arange(20.0).reshape(1, 1, 4, 5)
    xm = np.array([[[[1., 2., 0., 5.], [4., 3., 6., 1.], [0., 7., 2., 2.], [1., 1., 3., 8.]]]])
    _, cache = max_pool2d_forward(xm, 2)
    dm = np.array([[[[10., 20.], [30., 40.]]]])
    figs = [draw_dx_full_convolution(dout, w, dx, at=(1, 2)), draw_dw_correlation(x, dout, dw, at=(1, 0)),
            draw_im2col(xi[0, 0], im2col(xi, 3, 1, 1)[0], 3, padding=1, windows=[(0, 0), (1, 2)]),
            draw_max_pool_routing(xm[0, 0], dm[0, 0], max_pool2d_backward(dm, cache)[0, 0], kernel_size=2)]
    assert f"= {dx[1, 2]:.4g}:" in figs[0]._suptitle.get_text()
    for fig in figs:
        words = [fig._suptitle.get_text()] + [t for ax in fig.axes for t in (ax.get_title(), ax.get_xlabel())]
        english = [t for t in words if re.search(r"\b(?:window|column|row|input|padded|filter|image)\b", t)]
        assert not english, english
        assert all(re.search("[\uac00-\ud7a3]", ax.get_xlabel()) for ax in fig.axes)
        assert lint_figure(fig) == []
        matplotlib.pyplot.close(fig)
