"""The figures' errors speak the learner's language (cnnbook.viz): a wrong shape, a wrong count or a bad argument
is refused in Korean in the Korean edition, with the same exception type and the same numbers, while the English
is exactly today's. The catalog (``explorers.po``) holds every template of ``cnnbook/viz`` translated with the same
fields, the glossary's terms and no particle pair, and no ``raise`` or ``warnings.warn`` of ``cnnbook/viz`` writes a
bare English string.
"""
import ast
import re
import string
from pathlib import Path

import matplotlib
import numpy as np
import polib
import pytest
from test_language_edges import (
    assert_korean,
    automatic_language,  # noqa: F401 (autouse: each test starts in the automatic language)
    both,
    glossary,
)
from test_register_ko import findings

from cnnbook import viz
from cnnbook.course import catalog, language
from cnnbook.course.language import set_language
from cnnbook.viz import attention, backprop, diagrams, fields, limits, recipe, training, units

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
VIZ = ROOT / "cnnbook" / "viz"
PO = language.CATALOG_DIR / "ko" / "explorers.po"
z = np.zeros


@pytest.fixture(autouse=True)
def no_figure_left():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


# ---- errors a learner triggers ----------------------------------------------------------------------
ERRORS = [
    pytest.param(lambda: viz.show_images(z((2, 4, 8, 8))),
                 'an image to show needs 1 or 3 channels, got 4 (shape (4, 8, 8)); show the channels one by one with '
                 'show_activation_maps',
                 id='channels'),
    pytest.param(lambda: viz.show_images(z((3, 1, 8, 8)), labels=[0, 1]),
                 '2 labels for 3 images; pass one label per image', id='labels'),
    pytest.param(lambda: viz.show_activation_maps(z((3, 4, 4)), titles=["a", "b"]),
                 '2 titles for 3 maps; pass one title per map', id='titles'),
    pytest.param(lambda: viz.show_activation_maps([z((4, 4)), z((2, 2, 2))]),
                 'a list of maps must hold 2-D (H, W) maps, got shapes [(4, 4), (2, 2, 2)]', id='map list'),
    pytest.param(lambda: viz.show_activation_maps(z((2, 2, 3, 4, 4))),
                 'maps must be (F, H, W), (1, F, H, W) or (H, W), got shape (2, 2, 3, 4, 4)', id='maps'),
    pytest.param(lambda: viz.show_filters(z((2, 3, 4))),
                 'w must be (F, C, KH, KW) or one (KH, KW) kernel, got shape (2, 3, 4)', id='filters'),
    pytest.param(lambda: viz.show_filters(z((2, 1, 3, 3)) + 1, names=["a"]),
                 '1 names for 2 filters; pass one name per filter', id='filter names'),
    pytest.param(lambda: viz.draw_receptive_field([(3, 1)], input_size=8, unit=6),
                 "unit 6 is outside the last layer's 6 units; use 0..5", id='unit'),
    pytest.param(lambda: backprop.draw_dx_full_convolution(z((3, 3)), z((3, 3)), z((4, 5))),
                 'dx has shape (4, 5); the full convolution of dout (3, 3) with w (3, 3) is (5, 5)', id='dx'),
    pytest.param(lambda: backprop.draw_dx_full_convolution(z((3, 3)), z((3, 3)), z((5, 5)), at=(5, 0)),
                 'at=(5, 0) is outside dx (5, 5)', id='at'),
    pytest.param(lambda: backprop.draw_dw_correlation(z((1, 5, 5)), z((3, 3)), z((3, 3))),
                 'x has shape (1, 5, 5); pass one channel, a 2-D (H, W) array', id='plane'),
    pytest.param(lambda: backprop.draw_im2col(z((4, 5)), z((9, 10)), 3, padding=1),
                 'cols has shape (9, 10); a 3x3 kernel, stride 1, padding 1 on (4, 5) gives (9, 20)', id='cols'),
    pytest.param(lambda: backprop.draw_im2col(z((4, 5)), z((9, 20)), 3, padding=1, windows=[(4, 0)]),
                 'windows=[(4, 0)]: pass at most 9 output positions (i, j) with 0 <= i < 4 and 0 <= j < 5',
                 id='windows'),
    pytest.param(lambda: backprop.draw_max_pool_routing(z((4, 4)), z((1, 2)), z((4, 4))),
                 'dout (1, 2) and dx (4, 4): a 2x2 pool with stride 2 on x (4, 4) needs dout (2, 2) and dx (4, 4)',
                 id='pool'),
    pytest.param(lambda: backprop.draw_max_pool_routing(z((8, 8)), z((4, 4)), z((8, 8))),
                 '16 windows; the picture tells at most 9 apart by colour', id='pool windows'),
    pytest.param(lambda: diagrams.patch_strip(z((1, 4, 4)), 3),
                 "patch_size=3 must be a positive divisor of the image's 4x4", id='patch size'),
    pytest.param(lambda: diagrams.patch_strip(z((2, 2, 4, 4)), 2),
                 'image must be (C, H, W) or (H, W), got shape (2, 2, 4, 4)', id='image'),
    pytest.param(lambda: diagrams.patch_strip(z((1, 4, 4)), 2, rows=3),
                 'rows=3 must divide the 4 patches', id='rows'),
    pytest.param(lambda: diagrams.show_vit_pipeline(z((1, 28, 28)), z((5, 32)), z((17, 17)), np.full(10, 0.1), 7),
                 '16 patches need tokens (T + 1, D) = (17, D) and attention (17, 17); got tokens (5, 32) and '
                 'attention (17, 17)',
                 id='vit'),
    pytest.param(lambda: diagrams.draw_branching_block("input", [], "out"),
                 'branches is empty: pass at least one (steps, output_label) pair', id='branches'),
    pytest.param(lambda: fields.show_gradient_field(z((2, 3, 3)), {"a": (0, 0, 1)}),
                 'grad must be one (H, W) map, got shape (2, 3, 3)', id='grad'),
    pytest.param(lambda: fields.show_gradient_field(z((3, 3)), {}),
                 'squares is empty: pass at least one {label: (row0, col0, side)}', id='squares'),
    pytest.param(lambda: limits.plot_accuracy_curves([0, 1, 2], {"short": [0.5, 0.6]},
                                                    xlabel="shift (pixels)", title="t"),
                 "curve 'short' has 2 values for 3 x values; pass one per x", id='curve length'),
    pytest.param(lambda: recipe.plot_curves({"a": ([0, 1], [1.0, 2.0, 3.0])}, title="t", xlabel="x", ylabel="y"),
                 "curve 'a': 2 x values for 3 y values; pass equal lengths", id='xy'),
    pytest.param(lambda: recipe.plot_curves({}, title="t", xlabel="x", ylabel="y"),
                 'curves must be a non-empty dict {label: y or (x, y)}', id='no curves'),
    pytest.param(lambda: recipe.plot_curves({"a": [1.0]}, title="t", xlabel="", ylabel="y"),
                 "xlabel='': every plot needs a title and labelled axes (with units)", id='axis label'),
    pytest.param(lambda: recipe.templates_as_images(z((785, 10))),
                 'w has shape (785, 10); expected (D, K) with D = C*H*W = 1*28*28 = 784 for images of shape (1, 28, '
                 '28)',
                 id='templates'),
    pytest.param(lambda: recipe.show_templates(z((784, 2)) + 1, names=["a", "b", "c"]),
                 '3 names for 2 templates; pass one name per column of w', id='template names'),
    pytest.param(lambda: training.show_misclassified(z((2, 1, 4, 4)), np.array([0, 1]), np.array([0, 1])),
                 'no misclassified images to show: every prediction is right', id='misclassified'),
    pytest.param(lambda: units.colour_filter_image(z((2, 1, 3, 3)), 1.0),
                 'w has shape (2, 1, 3, 3); expected RGB filters (F, 3, KH, KW)', id='rgb'),
    pytest.param(lambda: units.colour_filter_image(z((2, 3, 3, 3)), -1.0),
                 'limit=-1.0; pass a positive weight (e.g. the largest |w| of the comparison)', id='limit'),
    pytest.param(lambda: units.show_colour_filters(z((2, 3, 3, 3))),
                 'every weight is 0; there is nothing to show (pass limit=... to show zeros grey)', id='zeros'),
    pytest.param(lambda: units.show_top_patches(z((2, 3, 2, 8, 8))),
                 'patches has shape (2, 3, 2, 8, 8); expected (units, k, C, S, S) with C = 1 or 3', id='patches'),
    pytest.param(lambda: units.show_top_patches(z((2, 3, 1, 8, 8)), np.ones((3, 2))),
                 'values has shape (3, 2); expected (2, 3), one per patch', id='values'),
    pytest.param(lambda: attention.plot_attention_distance(z(3)),
                 'distances must be (depth, heads), got shape (3,)', id='distances'),
    pytest.param(lambda: attention.plot_cross_validation(z((2, 3)), [1, 2], [4, 8, 16], "lr", "filters"),
                 'scores must be (rows, cols, folds) = (2, 3, k), got shape (2, 3)', id='cross-validation'),
    pytest.param(lambda: attention.show_filter_rows({"cnn": z((2, 3, 3, 3))}),
                 "'cnn': weights must be (F, 1, KH, KW) single-channel filters, got shape (2, 3, 3, 3)",
                 id='filter rows'),
    pytest.param(lambda: attention.plot_accuracy_vs_data([10, 100], {"cnn": [0.5]}),
                 "'cnn': 1 accuracies for 2 data sizes", id='accuracies'),
    pytest.param(lambda: viz.show_images(z((3, 1, 8, 8)), titles=["a"]),
                 '1 titles for 3 images; pass one title per image', id='image titles'),
    pytest.param(lambda: viz.show_images(z((2, 2, 2, 2, 2))),
                 'images must be (N, C, H, W), (C, H, W) or (H, W), got shape (2, 2, 2, 2, 2)', id='images'),
    pytest.param(lambda: attention.show_attention_maps(z((28, 28)), [z((4, 10, 10))], grid_size=4),
                 'layer 0: attention must be (heads, T, T) with T = 17, got shape (4, 10, 10)', id='attention'),
    pytest.param(lambda: backprop.draw_dw_correlation(z((5, 5)), z((3, 3)), z((2, 3))),
                 'dw has shape (2, 3); x (5, 5) correlated with dout (3, 3) gives (3, 3)', id='dw'),
    pytest.param(lambda: backprop.draw_dw_correlation(z((5, 5)), z((3, 3)), z((3, 3)), at=(0, 3)),
                 'at=(0, 3) is outside dw (3, 3)', id='dw at'),
    pytest.param(lambda: recipe.plot_curves({"a": []}, title="t", xlabel="x", ylabel="y"),
                 "curve 'a' is empty; pass at least one value", id='empty curve'),
    pytest.param(lambda: units.show_top_patches(z((2, 3, 1, 8, 8)), unit_names=["a", "b", "c"]),
                 '3 unit names for 2 units; pass one per unit', id='unit names'),
    pytest.param(lambda: viz.draw_output_grid("8 3 2 0"),
                 'report must be an OutputSizeReport from output_size_report(...), got str', id='report kind'),
]


@pytest.mark.parametrize("call, english", ERRORS)
def test_a_figure_error_is_korean_with_the_same_type_and_numbers_and_the_english_is_unchanged(call, english):
    def message():
        with pytest.raises(Exception) as info:
            call()
        return type(info.value), str(info.value)
    (en_type, en), (ko_type, ko) = both(message)
    assert en == english
    assert en_type is ko_type and en_type in (ValueError, TypeError)
    assert_korean(en, ko)
    assert not findings(ko), findings(ko)  # 합니다체, no particle pair


def test_every_error_template_of_the_viz_is_triggered_above():
    """The cases above reach every raise of cnnbook/viz (so each Korean sentence is checked as a learner reads it)."""
    set_language("en")
    messages = []
    for param in ERRORS:
        with pytest.raises(Exception) as info:
            param.values[0]()
        messages.append(str(info.value))
    for template in raise_templates():
        pattern = "".join(re.escape(text) + (".+" if name is not None else "")
                          for text, name, _, _ in string.Formatter().parse(template))
        assert any(re.fullmatch(pattern, m, re.S) for m in messages), template


def test_the_good_path_looks_no_message_up(monkeypatch):
    """A figure drawn from good input calls tr only for its own text, never for an error message."""
    looked_up = []
    real = language.tr

    def spy(template, **values):
        looked_up.append(template)
        return real(template, **values)
    for module in (backprop, diagrams, units):
        monkeypatch.setattr(module, "tr", spy)
    diagrams.patch_strip(z((1, 4, 4)), 2)
    units.colour_filter_image(z((2, 3, 3, 3)), 1.0)
    errors = set(raise_templates())
    assert not errors & set(looked_up)


# ---- the catalog ---------------------------------------------------------------------------------
def raise_templates() -> list:
    """The templates of tr(...) calls that are the message of a raise or a warnings.warn in cnnbook/viz."""
    found = []
    for path in sorted(VIZ.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            message = raised_message(node)
            if isinstance(message, ast.Call) and getattr(message.func, "id", None) == "tr" \
                    and isinstance(message.args[0], ast.Constant):  # tr(HANGUL_FONT_HINT): test_language_edges
                found.append(message.args[0].value)
    return found


def raised_message(node):
    """The first argument of the exception a ``raise`` builds, or of a ``warnings.warn`` call; else None."""
    if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
        return node.exc.args[0]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "warn" \
            and node.args:
        return node.args[0]
    return None


def viz_entries() -> list:
    used = {t.text for t in catalog.templates(catalog.PACKAGE_DIR) if t.path.startswith("cnnbook/viz/")}
    entries = [e for e in polib.pofile(str(PO)) if e.msgid in used and not e.obsolete]
    assert {e.msgid for e in entries} == used
    return entries


def test_the_catalog_holds_every_viz_template_translated_with_the_same_fields():
    po = polib.pofile(str(PO))
    assert not po.obsolete_entries() and not po.fuzzy_entries() and not po.untranslated_entries()
    assert {e.msgid for e in po} == set(catalog.domain_templates("explorers.po"))
    entries = viz_entries()
    assert len(raise_templates()) >= 45 and set(raise_templates()) <= {e.msgid for e in entries}
    for e in entries:
        assert e.msgstr and language.fields(e.msgstr) == language.fields(e.msgid), e.msgid
        specs = lambda t: sorted((n, c, s) for _, n, s, c in string.Formatter().parse(t) if n)  # noqa: E731
        assert specs(e.msgstr) == specs(e.msgid), e.msgid


def test_the_korean_uses_the_glossary_no_avoided_word_and_no_particle_pair():
    entries = viz_entries()
    rows = glossary()
    assert not [(e.msgid, avoid) for e in entries for _, _, avoids in rows for avoid in avoids if avoid in e.msgstr]
    assert not [e.msgstr for e in entries if re.search(r"\((이|가|을|를|은|는|으|과|와)\)", e.msgstr)]
    assert not [(e.msgstr, findings(e.msgstr)) for e in entries if findings(e.msgstr)]
    terms = {r"kernel": "커널", r"stride": "스트라이드", r"padding": "패딩", r"filters?": "필터",
             r"patch(es)?": "패치", r"windows?": "윈도우", r"full convolution": "full 모드 합성곱",
             r"weights?": "가중치", r"labels?": "레이블", r"templates?": "템플릿", r"tokens?": "토큰",
             r"attention": "어텐션", r"accurac\w*": "정확도", r"correlated": "교차상관", r"pool": "풀링"}
    for e in (e for e in entries if e.msgid in set(raise_templates())):
        # leave out the fields and the names a learner types (`patch_size=`, `patches` the argument)
        words = re.sub(r"\{[^}]*\}|\w+[=_]\S*|[A-Za-z]+_\w+|^\w+ (?=has shape|must be|is empty)", " ", e.msgid)
        for en, ko in terms.items():
            if re.search(rf"\b{en}\b", words):
                assert ko in e.msgstr, (en, e.msgid, e.msgstr)


# ---- no bare English string left -------------------------------------------------------------------
def test_no_raise_or_warning_of_the_viz_writes_a_bare_string():
    bare = []
    for path in sorted(VIZ.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            message = raised_message(node)
            if message is None:
                continue
            kind = isinstance(message, ast.Call) and getattr(message.func, "id", None) == "tr"
            if not (kind or isinstance(message, ast.Name)):
                bare.append(f"{path.name}:{node.lineno}")
    assert not bare
