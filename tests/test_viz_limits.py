"""cnnbook.viz.limits: the accuracy-against-a-transformation plot of notebook 11."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnbook.viz.limits import plot_accuracy_curves  # noqa: E402


def test_accuracy_curves_have_labels_a_unit_range_and_the_chance_level(xp):
    angles = xp.asarray(np.array([0.0, 45.0, 90.0]))
    fig = plot_accuracy_curves(angles, {"upright": xp.asarray(np.array([0.9, 0.4, 0.1]))},
                               xlabel="rotation (degrees)", title="accuracy against rotation", chance=0.1)
    ax = fig.axes[0]
    assert ax.get_title() == "accuracy against rotation"
    assert ax.get_xlabel() == "rotation (degrees)" and ax.get_ylabel() == "test accuracy"
    assert ax.get_ylim() == (0, 1.02)
    labels = [line.get_label() for line in ax.get_lines()]
    assert "upright" in labels and "chance (0.10)" in labels
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [0.9, 0.4, 0.1])
    plt.close(fig)


def test_a_curve_of_the_wrong_length_is_named():
    with pytest.raises(ValueError, match="curve 'short' has 2 values for 3 x values"):
        plot_accuracy_curves([0, 1, 2], {"short": [0.5, 0.6]}, xlabel="shift (pixels)", title="t")
