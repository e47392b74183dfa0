"""cnnbook.viz.diagrams: the ViT pipeline (notebook 10) and the branching Inception block (notebook 12)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnbook.viz.diagrams import draw_branching_block, patch_strip, show_vit_pipeline  # noqa: E402


def test_patch_strip_puts_the_patches_in_token_order_with_blank_gaps(xp):
    image = np.arange(16.0).reshape(1, 4, 4)  # (C, H, W): 2x2 patches of 2x2
    strip = patch_strip(xp.asarray(image), 2)
    assert strip.shape == (2, 4 * 3 - 1)
    np.testing.assert_array_equal(strip[:, 0:2], image[0, :2, :2])       # token 1: top left
    np.testing.assert_array_equal(strip[:, 3:5], image[0, :2, 2:])       # token 2: top right
    np.testing.assert_array_equal(strip[:, 6:8], image[0, 2:, :2])       # token 3: bottom left
    assert np.isnan(strip[:, 2]).all() and np.isnan(strip[:, 5]).all()
    two_rows = patch_strip(image, 2, rows=2, band=1)              # tokens 1-2 above, 3-4 below, a blank band over each
    assert two_rows.shape == (2 * (1 + 2), 2 * 3 - 1)
    np.testing.assert_array_equal(two_rows[4:6, 3:5], image[0, 2:, 2:])  # token 4: second row, second place
    assert np.isnan(two_rows[0]).all() and np.isnan(two_rows[3]).all()
    with pytest.raises(ValueError, match="patch_size=3 must be a positive divisor of the image's 4x4"):
        patch_strip(image, 3)
    with pytest.raises(ValueError, match="rows=3 must divide the 4 patches"):
        patch_strip(image, 2, rows=3)


def test_vit_pipeline_shows_five_steps_with_the_models_numbers(xp):
    rng = np.random.default_rng(0)
    image = rng.random((1, 28, 28))
    tokens = rng.normal(size=(17, 32))
    attention = rng.random((17, 17))
    attention /= attention.sum(axis=1, keepdims=True)
    probabilities = np.full(10, 0.1)
    fig = show_vit_pipeline(xp.asarray(image), xp.asarray(tokens), xp.asarray(attention), xp.asarray(probabilities),
                            7, title="pipeline")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert [t[:2] for t in titles] == ["1.", "2.", "3.", "4.", "5."]
    assert "4 x 4 patches of 7 x 7 px" in titles[0] and "16" in titles[1]
    assert fig.get_size_inches()[0] <= 10.0
    attention_ax = next(ax for ax in fig.axes if ax.get_title().startswith("4."))
    np.testing.assert_allclose(attention_ax.images[0].get_array(), attention)
    with pytest.raises(ValueError, match="16 patches need tokens"):
        show_vit_pipeline(image, tokens[:5], attention, probabilities, 7)
    plt.close(fig)


def test_branching_block_draws_every_branch_and_the_concatenation():
    fig = draw_branching_block("input",
                               [(["1x1 conv"], "(N, 4, 8, 8)"), (["3x3 max pool", "1x1 conv"], "(N, 2, 8, 8)")],
                               "concatenate: (N, 6, 8, 8)", title="block")
    texts = [t.get_text() for t in fig.axes[0].texts]
    for label in ["input", "1x1 conv", "3x3 max pool", "(N, 4, 8, 8)", "(N, 2, 8, 8)", "concatenate: (N, 6, 8, 8)"]:
        assert label in texts
    assert fig.axes[0].get_title() == "block"
    plt.close(fig)
    with pytest.raises(ValueError, match="branches is empty"):
        draw_branching_block("input", [], "out")


def test_the_diagrams_speak_korean_in_the_korean_edition(monkeypatch):
    """The ViT pipeline's own titles and axes are Korean in the Korean edition; a Korean convolution step of a
    branching block is drawn blue like an English one."""
    import re

    from figure_lint import lint_figure

    from cnnbook.course.language import ENV
    monkeypatch.setenv(ENV, "ko")
    rng = np.random.default_rng(0)
    attention = rng.dirichlet(np.ones(17), 17)
    fig = show_vit_pipeline(rng.random((1, 28, 28)), rng.normal(size=(17, 32)), attention, np.full(10, 0.1), 7)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert [t[:2] for t in titles] == ["1.", "2.", "3.", "4.", "5."]
    assert "7 x 7픽셀" in titles[0] and "4 x 4개" in titles[0]
    hangul = re.compile("[\uac00-\ud7a3]")
    assert all(hangul.search(t) for t in titles)
    assert all(hangul.search(ax.get_xlabel()) for ax in fig.axes if ax.get_xlabel())
    assert lint_figure(fig) == []
    plt.close(fig)
    fig = draw_branching_block("입력", [(["1x1 합성곱"], "(N, 4, 8, 8)"), (["3x3 맥스 풀링"], "(N, 1, 8, 8)")], "출력")
    colour = {t.get_text(): t.get_bbox_patch().get_facecolor() for t in fig.axes[0].texts
              if t.get_bbox_patch() is not None}
    english = draw_branching_block("input", [(["1x1 conv"], "a"), (["3x3 max pool"], "b")], "out")
    colour_en = {t.get_text(): t.get_bbox_patch().get_facecolor() for t in english.axes[0].texts
                 if t.get_bbox_patch() is not None}
    assert colour["1x1 합성곱"] == colour_en["1x1 conv"] != colour["3x3 맥스 풀링"] == colour_en["3x3 max pool"]
    plt.close(fig)
    plt.close(english)
