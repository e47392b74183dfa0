"""cnnbook.viz.recipe: curves and linear-classifier templates (the plain logic under the plots)."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnbook.viz.recipe import plot_curves, show_templates, templates_as_images  # noqa: E402


def test_templates_as_images_puts_column_k_into_image_k(xp):
    D, K = 2 * 3 * 4, 5
    w = xp.asarray(np.arange(D * K, dtype=np.float32).reshape(D, K))
    T = templates_as_images(w, (2, 3, 4))
    assert type(T) is np.ndarray and T.shape == (K, 2, 3, 4)
    host_w = np.arange(D * K, dtype=np.float32).reshape(D, K)
    for k in range(K):
        np.testing.assert_array_equal(T[k].reshape(-1), host_w[:, k])


@pytest.mark.parametrize("shape", [(10,), (785, 10), (2, 784, 10)])
def test_templates_as_images_names_a_wrong_shape(shape):
    with pytest.raises(ValueError, match=r"1\*28\*28 = 784"):
        templates_as_images(np.zeros(shape, np.float32))


def test_show_templates_scales_each_template_symmetrically(xp):
    import matplotlib.pyplot as plt
    w = np.zeros((16, 2), np.float32)
    w[0, 0], w[5, 1] = 3.0, -0.5
    fig = show_templates(xp.asarray(w), (1, 4, 4), names=["a", "b"])
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert [im.get_clim() for im in images] == [(-3.0, 3.0), (-0.5, 0.5)]
    assert [ax.get_title().split("\n")[0] for ax in fig.axes if ax.images] == ["a", "b"]
    plt.close(fig)
    with pytest.raises(ValueError, match="3 names for 2 templates"):
        show_templates(w, (1, 4, 4), names=["a", "b", "c"])


def test_plot_curves_draws_finite_points_and_labels():
    import matplotlib.pyplot as plt
    fig = plot_curves({"small": [3.0, 2.0, 1.0], "diverged": ([0, 1, 2], np.array([1.0, 5.0, np.inf]))},
                      title="loss", xlabel="step", ylabel="loss (nats)", logy=True,
                      hline=np.log(10), hline_label="ln 10")
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["small"].get_ydata()) == [3.0, 2.0, 1.0]
    assert list(lines["diverged"].get_ydata()) == [1.0, 5.0]      # the inf is left out ...
    assert any("not finite from x = 2" in t.get_text() for t in ax.texts)  # ... and said
    assert "ln 10" in lines and ax.get_yscale() == "log"
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("loss", "step", "loss (nats)")
    plt.close(fig)


@pytest.mark.parametrize("kwargs, match", [
    (dict(curves={}), "non-empty"),
    (dict(xlabel=""), "labelled axes"),
    (dict(curves={"a": ([0, 1], [1.0, 2.0, 3.0])}), "2 x values for 3 y values"),
])
def test_plot_curves_refuses_bad_input(kwargs, match):
    args = dict(curves={"a": [1.0]}, title="t", xlabel="x", ylabel="y") | kwargs
    with pytest.raises(ValueError, match=match):
        plot_curves(**args)
