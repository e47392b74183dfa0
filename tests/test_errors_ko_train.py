"""Training and the models speak the learner's language: ``cnnbook.train`` and ``cnnbook.models`` (but
``torch_port``, whose template is in ``exercises.po``).

An error a learner triggers (wrong shape, wrong type, a bad argument) reads in Korean with the same exception
type and the same numbers, and in English exactly as before; ``fit``'s progress bar speaks Korean too. The
catalog ``training.po`` holds exactly the templates of these files, all translated with the glossary's terms,
and no ``raise`` or ``warnings.warn`` of these files passes a bare string.
"""
import ast
import re
from pathlib import Path

import numpy as np
import polib
import pytest
from test_language_edges import (
    HANGUL,
    assert_korean,
    automatic_language,  # noqa: F401 (autouse: each test starts in the automatic language)
    both,
    glossary,
    numbers,
)

from cnnbook import train
from cnnbook.course import catalog, language
from cnnbook.models import measures, reference_cnn
from cnnbook.models.attention import MultiHeadSelfAttention, make_activation
from cnnbook.models.blocks import Concat, Pad2d, inception_block
from cnnbook.models.local import LocallyConnected2d
from cnnbook.models.vit import PatchEmbedding, PositionEmbedding, TinyViT, TokenPool
from cnnbook.nn import Linear
from cnnbook.optim import SGD

ROOT = Path(__file__).resolve().parents[1]
PO = "training.po"
SOURCES = ("train.py", "models/attention.py", "models/blocks.py", "models/local.py", "models/measures.py",
           "models/reference.py", "models/vit.py", "models/__init__.py")


def _data(n=8, labels=None):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 1, 8, 8)).astype(np.float32)
    return X, np.arange(n) % 3 if labels is None else labels


def _model():
    return reference_cnn(channels=(2,), input_shape=(1, 8, 8), num_classes=3, seed=0)


def _nan_data():
    X, y = _data()
    X[3, 0, 1, 1] = np.nan
    return X, y


def _fit_with_another_models_optimizer():
    other = reference_cnn(channels=(2,), input_shape=(1, 8, 8), num_classes=3, seed=1)
    return train.fit(_model(), *_data(), optimizer=SGD(other.parameters(), lr=0.1), progress=False)


def _diverging_fit():
    model = _model()
    infinite = lambda scores, y: (float("inf"), scores * 0)  # noqa: E731 (a loss that has already diverged)
    return train.fit(model, *_data(), epochs=1, batch_size=4, progress=False, loss=infinite,
                     optimizer=SGD(model.parameters(), lr=0.1))


# (call, exception type, the English exactly as it read before it went through tr)
ERRORS = {
    "loss": (lambda: train.fit(_model(), *_data(), loss="hinge", progress=False), ValueError,
             "loss='hinge'; choose 'softmax', 'svm' or pass a function (scores, y) -> (loss, dscores)"),
    "X is a list": (lambda: train.predict(_model(), [[1.0, 2.0]]), TypeError,
                    "X must be an array (NumPy or CuPy) of shape (N, ...), got list; convert it with "
                    "numpy.asarray(X)"),
    "X empty": (lambda: train.predict(_model(), np.zeros((0, 1, 8, 8), np.float32)), ValueError,
                "X is empty (shape (0, 1, 8, 8)); pass at least one example"),
    "labels a list": (lambda: train.fit(_model(), _data()[0], [0, 1], progress=False), TypeError,
                      "X and its labels must be arrays, got ndarray and list"),
    "labels 2-D": (lambda: train.fit(_model(), _data()[0], np.zeros((8, 3), int), progress=False), ValueError,
                   "the labels of X must be 1-D (N,) class indices, got shape (8, 3)"),
    "labels count": (lambda: train.fit(_model(), _data(20)[0], np.zeros(19, int), progress=False), ValueError,
                     "X has 20 examples but its labels have 19; pass matching arrays"),
    "NaN data": (lambda: train.fit(_model(), *_nan_data(), progress=False), ValueError,
                 "X holds NaN or infinite values (first in example 3); a model cannot learn from or be scored on "
                 "them: drop or repair those examples first, e.g. keep = numpy.isfinite(X).reshape(len(X), -1)"
                 ".all(axis=1)"),
    "minibatch y list": (lambda: next(train.iterate_minibatches(np.zeros((4, 2)), [0, 1], 2, rng=0)), TypeError,
                         "y must be an array (NumPy or CuPy), got list; convert it with numpy.asarray(y)"),
    "minibatch count": (lambda: next(train.iterate_minibatches(np.zeros((5, 2)), np.zeros(4), 2, rng=0)),
                        ValueError, "X has 5 examples but y has 4; pass matching arrays"),
    "minibatch rng": (lambda: next(train.iterate_minibatches(np.zeros((4, 2)), None, 2)), ValueError,
                      "shuffle=True needs rng: pass rng=numpy.random.default_rng(seed) (or an int seed), "
                      "or shuffle=False"),
    "X_val alone": (lambda: train.fit(_model(), *_data(), X_val=_data()[0], progress=False), ValueError,
                    "pass both X_val and y_val, or neither"),
    "foreign optimizer": (_fit_with_another_models_optimizer, ValueError,
                          "4 of the optimizer's 4 parameters (index 0, 1, 2, 3) are not parameters of this model, so "
                          "training would not change them; build the optimizer from this model: "
                          "optimizer=SGD(model.parameters(), lr=...)"),
    "diverged": (_diverging_fit, train.TrainingDiverged,
                 "the training loss became inf at epoch 1, step 1 (optimizer SGD(lr=0.1, weight_decay=0.0, "
                 "momentum=0.0, nesterov=False)); try a smaller learning rate, e.g. lr=0.01"),
    "fractional labels": (lambda: train.confusion_matrix([0, 1.5], [0, 1]), ValueError,
                          "y_true holds values that are not class indices (1.5...); pass whole numbers, e.g. "
                          "y_true.argmax(axis=1) for scores or y_true.astype(int)"),
    "string labels": (lambda: train.confusion_matrix(np.array(["a"]), [0]), TypeError,
                      "y_true has dtype <U1; pass integer class indices"),
    "label counts": (lambda: train.confusion_matrix([0, 1], [1]), ValueError,
                     "2 true labels but 1 predictions; pass one prediction per label"),
    "label range": (lambda: train.confusion_matrix([0, 5], [0, 1], num_classes=3), ValueError,
                    "y_true holds labels outside 0..2 (min 0, max 5); set num_classes"),
    # the models
    "activation": (lambda: make_activation("tanh"), ValueError, "activation='tanh'; choose one of gelu, relu"),
    "heads": (lambda: MultiHeadSelfAttention(6, 4), ValueError,
              "dim=6 is not divisible by num_heads=4; each head gets dim / num_heads features "
              "(try num_heads in [1, 2, 3, 6])"),
    "concat empty": (lambda: Concat(), ValueError,
                     "Concat needs at least one branch, e.g. Concat(Conv2d(...), Conv2d(...))"),
    "concat branch": (lambda: Concat(Pad2d(1), "conv"), TypeError, "Concat branch 1 is a str, not a Module"),
    "concat shapes": (lambda: Concat(Pad2d(1), Pad2d(0))(np.zeros((2, 1, 4, 4), np.float32)), ValueError,
                      "Concat branches give outputs of shapes [(2, 1, 6, 6), (2, 1, 4, 4)]; all must share N, H "
                      "and W (pad each branch so it keeps the spatial size)"),
    "pad shape": (lambda: Pad2d(1)(np.zeros((4, 4))), ValueError, "Pad2d expects (N, C, H, W), got shape (4, 4)"),
    "inception": (lambda: inception_block(3, 0, 0, 0, 0), ValueError,
                  "inception_block needs at least one branch with filters; all of c1, c3, c5, c_pool are 0"),
    "local size": (lambda: LocallyConnected2d(1, 2, 3, 6)(np.zeros((2, 1, 7, 7), np.float32)), ValueError,
                   "LocallyConnected2d(1, 2, kernel_size=3, input_size=(6, 6), stride=1, padding=0) expects input "
                   "of shape (N, 1, 6, 6), got (2, 1, 7, 7): a locally connected layer has filters for one input "
                   "size only; set input_size and in_channels"),
    "filters 1x1": (lambda: measures.neighbour_correlation(np.zeros((2, 1, 1, 1))), ValueError,
                    "w has shape (2, 1, 1, 1); expected (F, C, KH, KW) filters with KH, KW >= 2"),
    "filters constant": (lambda: measures.neighbour_correlation(np.ones((2, 1, 3, 3))), ValueError,
                         "w is constant along its neighbours, so their correlation is undefined; "
                         "pass filters whose weights vary"),
    "rgb filters": (lambda: measures.channel_correlations(np.zeros((4, 1, 5, 5))), ValueError,
                    "w has shape (4, 1, 5, 5); expected (F, C, KH, KW) filters with 3 channels and KH, KW >= 2"),
    "grey filters": (lambda: measures.orientation_strength(np.zeros((4, 1, 1, 5))), ValueError,
                     "w has shape (4, 1, 1, 5); expected (F, C, KH, KW) filters with C channels and KH, KW >= 2"),
    "threshold": (lambda: measures.colour_opponent_share(np.zeros((4, 3, 5, 5)), threshold=0.5), ValueError,
                  "threshold=0.5; pass a cosine between -1 and 0 (e.g. -0.5)"),
    "field layers": (lambda: measures.field_geometry([(3, 1, 0), (2, 2)]), ValueError,
                     "layers[1]=(2, 2); pass (kernel_size, stride, padding) triples"),
    "top patches shapes": (lambda: measures.top_patches(np.zeros((4, 1, 8, 8)), np.zeros((3, 6, 6)), 3, 1, 0),
                           ValueError, "images (4, 1, 8, 8) and activations (3, 6, 6): expected (N, C, H, W) and "
                           "(N, Ho, Wo)"),
    "top patches k": (lambda: measures.top_patches(np.zeros((4, 1, 8, 8)), np.zeros((4, 6, 6)), 3, 1, 0, k=5),
                      ValueError, "k=5; pass 1 <= k <= 4 (the number of images)"),
    "crop positions": (lambda: measures.crop_fields(np.zeros((4, 1, 8, 8)), [0, 1], [0], [0, 1], 3, 1, 0),
                       ValueError, "images (4, 1, 8, 8), positions (2,), (1,), (2,): expected (N, C, H, W) and "
                       "three index arrays of one length"),
    "linear patches": (lambda: measures.linear_explained(np.zeros((10, 9)), np.zeros(10)), ValueError,
                       "10 patches of 9 values and responses of shape (10,): pass one response per patch, (n,) or "
                       "(n, U), and at least 22 patches"),
    "constant unit": (lambda: measures.linear_explained(np.random.default_rng(0).random((40, 4)),
                                                        np.ones((40, 2))), ValueError,
                      "the responses of unit(s) [0, 1] are constant on the held-out patches; pass units that vary "
                      "there"),
    "attn shape": (lambda: measures.attention_distance(np.zeros((2, 4, 16, 16)), 4, 7, num_prefix_tokens=1),
                   ValueError, "attn must be (N, H, T, T) with T = grid_size**2 + num_prefix_tokens = 17, got "
                   "shape (2, 4, 16, 16)"),
    "input shape": (lambda: reference_cnn(input_shape=(28, 28)), ValueError,
                    "input_shape=(28, 28) must be (C, H, W), e.g. (1, 28, 28)"),
    "even kernel": (lambda: reference_cnn(kernel_size=4), ValueError,
                    "kernel_size=4 must be odd so that padding (k - 1) / 2 keeps the size"),
    "no channels": (lambda: reference_cnn(channels=()), ValueError,
                    "channels must list at least one conv layer's output channels, e.g. (16, 32)"),
    "patch grid": (lambda: PatchEmbedding(1, 8, 7)(np.zeros((2, 1, 30, 30), np.float32)), ValueError,
                   "PatchEmbedding(1, 8, patch_size=7) expects images (N, 1, H, W) with H and W multiples of "
                   "patch_size=7, got shape (2, 1, 30, 30)"),
    "tokens": (lambda: PositionEmbedding(17, 8)(np.zeros((2, 16, 8), np.float32)), ValueError,
               "PositionEmbedding(17, 8) has embeddings for 17 tokens but got 16 (input shape (2, 16, 8))"),
    "pool mode": (lambda: TokenPool("max"), ValueError, "pool='max'; choose one of cls, mean"),
    "pool input": (lambda: TokenPool()(np.zeros((2, 8))), ValueError,
                   "TokenPool expects tokens (N, T, D), got shape (2, 8)"),
    "vit patch": (lambda: TinyViT(patch_size=5), ValueError,
                  "image_size=28 is not a multiple of patch_size=5; try patch_size in [1, 2, 4, 7, 14, 28]"),
    "vit pool": (lambda: TinyViT(pool="max"), ValueError, "pool='max'; choose one of cls, mean"),
    "vit maps": (lambda: TinyViT().attention_maps(), RuntimeError, "no attention weights yet: run model(x) first"),
}


@pytest.mark.parametrize("case", ERRORS, ids=list(ERRORS))
def test_an_error_a_learner_triggers_reads_in_korean_and_as_before_in_english(case):
    call, kind, english = ERRORS[case]

    def message():
        with pytest.raises(Exception) as info:
            call()
        return type(info.value), str(info.value)

    (en_type, en), (ko_type, ko) = both(message)
    assert en_type is ko_type is kind
    assert en == english
    assert_korean(en, ko)


def test_the_divergence_causes_read_in_korean():
    X, y = _data()
    X[0, 0, 0, 0] = np.inf
    model = _model()
    for augment, where in ((None, "in this minibatch"), (lambda xb, rng: xb, "after augment")):
        en, ko = both(lambda a=augment: train._divergence_cause(X, model, SGD(model.parameters(), lr=0.1), a))
        assert en == f"the input holds NaN or infinite values {where}; check the data and the augmentation"
        assert_korean(en, ko)
    for p in model.parameters():
        p.data[...] = np.nan
    en, ko = both(lambda: train._divergence_cause(_data()[0], model, SGD(model.parameters(), lr=0.1), None))
    assert en == "the model's parameters held NaN or infinite values before training; rebuild or reload the model"
    assert_korean(en, ko)


def test_fits_progress_bar_speaks_korean(monkeypatch):
    import tqdm.auto

    seen = []

    class Bar:
        def __init__(self, **kwargs):
            seen.append(kwargs)

        def update(self, n):
            pass

        def set_postfix(self, ordered_dict=None, refresh=True, **kwargs):
            seen.append(dict(ordered_dict or {}, **kwargs))

        def close(self):
            pass

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    model = Linear(4, 3, rng=0)
    X, y = np.ones((4, 4), np.float32), np.arange(4) % 3

    def bar_words():
        seen.clear()
        train.fit(model, X, y, epochs=1, batch_size=4)
        return seen[0]["desc"], seen[0]["unit"], list(seen[1])

    (en_desc, en_unit, en_keys), (ko_desc, ko_unit, ko_keys) = both(bar_words)
    assert (en_desc, en_unit, en_keys) == ("training", "step", ["epoch", "loss"])
    assert (ko_desc, ko_unit, ko_keys) == ("훈련", "스텝", ["에포크", "손실"])


# ---- the catalog ------------------------------------------------------------------------------------
def _entries():
    return [e for e in polib.pofile(str(language.CATALOG_DIR / "ko" / PO)) if not e.obsolete]


def test_the_catalog_holds_exactly_the_templates_in_use_all_translated():
    assert catalog.LITERAL_SOURCES[PO] == SOURCES
    po = polib.pofile(str(language.CATALOG_DIR / "ko" / PO))
    used = set(catalog.domain_templates(PO))
    assert len(used) >= 50
    assert {e.msgid for e in po if not e.obsolete} == used
    assert not po.obsolete_entries() and not po.fuzzy_entries() and not po.untranslated_entries()
    for source in SOURCES[:-1]:  # models/__init__.py only imports
        assert catalog.templates_in(ROOT / "cnnbook" / source), source


def test_the_korean_keeps_the_fields_and_numbers_uses_the_glossary_and_no_particle_pairs():
    entries = _entries()
    for e in entries:
        assert language.fields(e.msgstr) == language.fields(e.msgid), e.msgid
        assert HANGUL.search(e.msgstr), e.msgid
        assert numbers(re.sub(r"\{[^}]*\}", "", e.msgstr)) == numbers(re.sub(r"\{[^}]*\}", "", e.msgid)), e.msgid
    avoided = [(e.msgid, avoid) for e in entries for _, _, avoids in glossary() for avoid in avoids
               if avoid in e.msgstr]
    assert not avoided
    assert not [e.msgstr for e in entries if re.search(r"\((이|가|을|를|은|는|으|과|와)\)", e.msgstr)]
    terms = {"stride": "스트라이드", "padding": "패딩", "kernel": "커널", "epoch": "에포크", "learning rate": "학습률",
             "label": "레이블", "labels": "레이블", "minibatch": "미니배치", "optimizer": "옵티마이저",
             "parameters": "파라미터", "augmentation": "데이터 증강", "locally connected layer": "국소 연결 층",
             "attention": "어텐션", "embeddings": "임베딩", "tokens": "토큰", "patches": "패치", "loss": "손실"}
    for e in entries:
        for en, ko in terms.items():
            if re.search(rf"\b{en}\b", e.msgid) and not re.search(rf"\b{en}[=_(]|[_(]{en}\b|, {en}\)", e.msgid):
                kept_code_name = re.search(rf"(?<![A-Za-z]){en}(?![A-Za-z])", e.msgstr)
                assert ko in e.msgstr or kept_code_name, (en, e.msgid, e.msgstr)


# ---- no bare strings ---------------------------------------------------------------------------------
def _is_tr(node) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr"


def bare_messages(source: str) -> list[int]:
    """Lines of ``source`` where a ``raise`` or ``warnings.warn`` passes a string or f-string, not ``tr(...)``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        args = []
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            args = node.exc.args
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "warn":
            args = node.args[:1]
        for arg in args:
            if isinstance(arg, (ast.Constant, ast.JoinedStr, ast.BinOp)) and not _is_tr(arg):
                found.append(node.lineno)
    return sorted(found)


@pytest.mark.parametrize("source", SOURCES)
def test_no_raise_or_warning_passes_a_bare_string(source):
    assert not bare_messages((ROOT / "cnnbook" / source).read_text(encoding="utf-8")), source


def test_the_scan_sees_a_bare_string():
    assert bare_messages("raise ValueError(f'x={x}')\nwarnings.warn('old')\nraise E('a' + b)\n") == [1, 2, 3]
    assert not bare_messages("raise ValueError(tr('x={x}', x=x))\nraise error\nwarnings.warn(tr('old'))\n")
