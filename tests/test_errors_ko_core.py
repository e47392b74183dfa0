"""The core speaks the learner's language: the errors of the layers, ``nn``, ``optim`` and ``backend``, and the
words of ``nn.summary``'s table.

For each error a learner can trigger (a wrong shape, a wrong type, a bad argument), the English is exactly the
text it was before the messages went through ``tr`` (written out below), and the Korean has Hangul, no English
sentence left over, the same exception type and the same numbers. The catalog (``messages.po``) holds these
files' templates, translated with the glossary's terms; the source holds no ``raise`` or ``warnings.warn`` with a
bare English string, and the good path never looks a message up.
"""
import ast
import re
import sys
import types
from pathlib import Path

import numpy as np
import polib
import pytest
from test_language_edges import (
    HANGUL,
    assert_korean,
    automatic_language,  # noqa: F401 (autouse: each test starts in the automatic language)
    both,
    english_left,
    glossary,
    numbers,
    raised,
)

import cnnbook.layers.basic
import cnnbook.layers.checks
import cnnbook.layers.conv
import cnnbook.layers.losses
import cnnbook.layers.pool
import cnnbook.layers.sizes
import cnnbook.nn.base
import cnnbook.nn.modules
import cnnbook.nn.tokens
from cnnbook import backend, layers, nn, optim
from cnnbook.course import catalog, language
from cnnbook.course.language import fields, set_language
from cnnbook.nn.base import Module, check_float_input

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("layers/basic.py", "layers/conv.py", "layers/losses.py", "layers/pool.py", "layers/parallel.py",
           "nn/__init__.py", "nn/base.py", "nn/modules.py", "nn/summary.py", "nn/tokens.py", "optim.py",
           "backend.py")
"""The files of this part (under ``cnnbook/``)."""
PO = language.CATALOG_DIR / "ko" / "messages.po"


def z(*shape, dtype=np.float32):
    return np.zeros(shape, dtype)


def conv_cache():
    return layers.conv2d_forward(z(2, 3, 8, 8), z(4, 3, 3, 3), z(4), 1, 0)[1]


def linear(d=4, m=2):
    return nn.Linear(d, m, rng=0)


def blas_block():
    with backend.blas_threads():
        pass


# ---- the errors: (id, call, exception type, the English exactly as before) -------------------------------
ERRORS = [
    ("linear features", lambda: layers.linear_forward(z(2, 3, 4), z(10, 5), z(5)), ValueError,
     "x has 12 features per example (x.shape=(2, 3, 4) flattens to (2, 12)) but w expects D=10 "
     "(w.shape=(10, 5), (D, M))"),
    ("linear bias", lambda: layers.linear_forward(z(2, 10), z(10, 5), z(4)), ValueError,
     "b has 4 entries but w has M=5 outputs (w.shape=(10, 5)); b.shape must be (5,)"),
    ("conv channels", lambda: layers.conv2d_forward(z(2, 3, 8, 8), z(4, 1, 3, 3), z(4), 1, 0), ValueError,
     "x has 3 channels (x.shape=(2, 3, 8, 8), (N, C, H, W)) but w expects 1 (w.shape=(4, 1, 3, 3), "
     "(F, C, KH, KW)); the filters' C must match the input's"),
    ("conv bias", lambda: layers.conv2d_forward(z(2, 3, 8, 8), z(4, 3, 3, 3), z(3), 1, 0), ValueError,
     "b has 3 entries but w has F=4 filters (w.shape=(4, 3, 3, 3)); give one bias per filter, b.shape == (4,)"),
    ("conv input_grad", lambda: layers.conv2d_backward(z(2, 4, 6, 6), conv_cache(), input_grad="no"), TypeError,
     "input_grad='no' must be True (compute dx) or False (dx is None)"),
    ("float labels", lambda: layers.softmax_cross_entropy(z(4, 10), np.array([1.0, 2.0, 3.0, 4.0])), TypeError,
     "y has dtype float64; it must hold integer class indices, e.g. y.astype('int64')"),
    ("label count", lambda: layers.softmax_cross_entropy(z(4, 10), np.array([1, 2, 3])), ValueError,
     "scores has 4 rows (scores.shape=(4, 10)) but y has 3 labels; give one label per example"),
    ("empty loss", lambda: layers.svm_loss(z(0, 10), np.array([], dtype=np.int64)), ValueError,
     "scores is empty (N = 0); the mean loss of no examples is undefined"),
    ("label range", lambda: layers.softmax_cross_entropy(z(3, 10), np.array([1, 10, 3])), ValueError,
     "label 10 in y is out of range for K=10 classes (scores.shape=(3, 10)); labels must lie in [0, 9]"),
    ("max pool window", lambda: layers.max_pool2d_forward(z(1, 2, 3, 5), 4), ValueError,
     "pooling window 4x4 is larger than the input 3x5 (x.shape=(1, 2, 3, 5)); use kernel_size <= 3"),
    ("avg pool window", lambda: layers.avg_pool2d_forward(z(1, 2, 6, 2), (3, 3), 1), ValueError,
     "pooling window 3x3 is larger than the input 6x2 (x.shape=(1, 2, 6, 2)); use kernel_size <= 2"),
    ("list into a layer", lambda: nn.Conv2d(3, 8, 3, rng=0)([[1.0, 2.0]]), TypeError,
     "Conv2d(3, 8, kernel_size=3, stride=1, padding=0) got a list; pass an array of shape (N, 3, H, W)"),
    ("float64 into a layer", lambda: nn.Linear(12, 5, rng=0)(z(2, 12, dtype=np.float64)), TypeError,
     "Linear(12, 5) got float64 input but its weights are float32; use X.astype(float32) or "
     "model.to(dtype=X.dtype)"),
    ("conv layer channels", lambda: nn.Conv2d(3, 8, 3, rng=0)(z(2, 1, 28, 28)), ValueError,
     "Conv2d(3, 8, kernel_size=3, stride=1, padding=0) expects input of shape (N, 3, H, W), got (2, 1, 28, 28); "
     "set in_channels to the channels of the layer before"),
    ("one example", lambda: nn.Linear(784, 10, rng=0)(z(784)), ValueError,
     "Linear(784, 10) expects a batch (N, 784) or (N, ...), got shape (784,); for one example use x[None]"),
    ("linear layer features", lambda: nn.Linear(784, 10, rng=0)(z(2, 8, 14, 14)), ValueError,
     "Linear(784, 10) expects 784 features per example, got input of shape (2, 8, 14, 14) (1568 features); "
     "set in_features=1568"),
    ("flatten a number", lambda: nn.Flatten()(np.float32(3.0)), ValueError,
     "Flatten expects a batch (N, ...), got float32 of shape (); for one example use x[None]"),
    ("a class in Sequential", lambda: nn.Sequential(nn.Conv2d(1, 8, 3, rng=0), nn.ReLU), TypeError,
     "Sequential argument 1 is a type, not a Module; pass layers like Conv2d(...), ReLU(), not classes or "
     "functions"),
    ("integer weights", lambda: nn.Linear(4, 2, rng=0, dtype=np.int32), TypeError,
     "dtype=int32 is not a floating-point dtype: learnable weights need fractions (integer weights would all be "
     "0); pass numpy.float32 (or numpy.float64)"),
    ("not a dtype", lambda: nn.Linear(4, 2, rng=0, dtype="bogus"), TypeError,
     "dtype='bogus' is not a dtype; pass numpy.float32 (or numpy.float64 for gradient checks)"),
    ("no forward", lambda: Module()(z(2, 3)), NotImplementedError, "Module must define forward(x)"),
    ("no backward", lambda: Module().backward(z(2, 3)), NotImplementedError, "Module must define backward(dout)"),
    ("backward before forward", lambda: linear().backward(z(2, 2)), RuntimeError,
     "Linear.backward was called before forward: run model(x) first, then model.backward(dout)"),
    ("unknown backend name", lambda: linear().to(backend_name="torch"), ValueError,
     "backend_name='torch'; choose 'numpy' or 'cupy'"),
    ("token shape", lambda: nn.TokenLinear(16, 8, rng=0)(z(2, 16)), ValueError,
     "TokenLinear(16, 8) expects tokens of shape (N, T, 16), got (2, 16)"),
    ("list of tokens", lambda: nn.LayerNorm(16)([1.0]), TypeError,
     "LayerNorm(16, eps=1e-05) got a list; pass an array of shape (N, T, 16)"),
    ("token dtype", lambda: nn.LayerNorm(16)(z(2, 4, 16, dtype=np.float64)), TypeError,
     "LayerNorm(16, eps=1e-05) got float64 input but its weights are float32; use x.astype(float32) or "
     "model.to(dtype=x.dtype)"),
    ("layer norm eps", lambda: nn.LayerNorm(16, eps=0), ValueError,
     "eps=0 must be > 0 (it keeps the division finite)"),
    ("optimizer of a model", lambda: optim.SGD(linear(), lr=0.1), TypeError,
     "pass model.parameters(), not the model itself"),
    ("optimizer of nothing", lambda: optim.SGD(nn.ReLU().parameters(), lr=0.1), ValueError,
     "the optimizer got an empty parameter list; pass model.parameters() of a model that has learnable layers"),
    ("optimizer of arrays", lambda: optim.Adam([z(2, 2)]), TypeError,
     "parameter 0 is a ndarray without .data and .grad; pass model.parameters()"),
    ("nesterov", lambda: optim.SGD(linear().parameters(), lr=0.1, nesterov=True), ValueError,
     "nesterov=True needs momentum > 0, e.g. SGD(params, lr, momentum=0.9, nesterov=True)"),
    ("betas", lambda: optim.Adam(linear().parameters(), betas=(0.9,)), ValueError,
     "betas=(0.9,) must be a pair (beta1, beta2), e.g. (0.9, 0.999)"),
    ("unknown backend", lambda: backend.use("tpu"), ValueError,
     "unknown backend 'tpu' from use('tpu'); choose one of numpy, cupy, auto"),
    ("list for an array", lambda: backend.get_array_module(np.zeros(2), [1, 2]), TypeError,
     "argument 1 is a list, not an array; pass a NumPy or CuPy array (numpy.asarray(...) converts lists)"),
    ("rng", lambda: backend.as_generator("seed"), TypeError,
     "rng='seed' is neither an int seed, a numpy.random.Generator nor None; pass e.g. rng=0 or "
     "rng=numpy.random.default_rng(0)"),
    ("BLAS threads", lambda: backend.blas_threads(0).__enter__(), ValueError,
     "n=0 must be a positive integer (BLAS threads) or None for the default"),
]


@pytest.mark.parametrize("call, kind, english", [pytest.param(*case[1:], id=case[0]) for case in ERRORS])
def test_an_error_a_learner_triggers_in_the_core_speaks_korean(call, kind, english):
    (en_type, en), (ko_type, ko) = both(raised(call, kind))
    assert en_type is ko_type is kind
    assert en == english
    assert_korean(en, ko)


def test_a_bad_thread_count_in_the_environment_speaks_korean(monkeypatch):
    monkeypatch.setenv(backend.BLAS_THREADS_ENV, "two")
    (_, en), (_, ko) = both(raised(blas_block, ValueError))
    assert en == (f"${backend.BLAS_THREADS_ENV}='two' must be a positive integer such as 1; unset it for the "
                  f"default (the CPUs this process may use, here {backend.available_cpus()})")
    assert_korean(en, ko)


def test_arrays_of_two_backends_speak_korean():
    from strict_array import strict
    (_, en), (_, ko) = both(raised(lambda: layers.relu_backward(z(2, 3), strict(z(2, 3))), TypeError))
    assert en.startswith("arrays from different backends in one call (argument 0 is numpy, argument 1 is ")
    assert_korean(en, ko)
    assert "0번 인자: numpy" in ko  # the pieces are Korean too


def fake_cupy(count=1, total=12, broken=False):
    def device_count():
        if broken:
            raise RuntimeError("")
        return count
    runtime = types.SimpleNamespace(getDeviceCount=device_count,
                                    getDeviceProperties=lambda i: {"name": b"Fake GPU 100"})
    return types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime), __version__="13.0.0",
                                 arange=lambda n: Product(total))


class Product:
    """What ``(cupy.arange(4) * 2).sum()`` gives on the fake: ``total``."""

    def __init__(self, total):
        self.total = total

    def __mul__(self, other):
        return self

    def sum(self):
        return self.total


@pytest.mark.parametrize("cupy, english", [
    (fake_cupy(count=0), "CuPy is installed but no CUDA device was found"),
    (fake_cupy(total=11), "CuPy computed 11 for a sum that is 12"),
    (fake_cupy(broken=True), "CuPy is installed but no GPU works (RuntimeError: )"),
], ids=["no device", "wrong sum", "broken"])
def test_why_no_gpu_works_speaks_korean_and_so_does_asking_for_cupy(monkeypatch, cupy, english):
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setattr(backend, "_chosen", None)
    backend.gpu_status.cache_clear()
    try:
        (en_works, en), (ko_works, ko) = both(backend.gpu_status)
        assert en_works is ko_works is False and en == english
        assert_korean(en, ko)
        (_, en), (_, ko) = both(raised(lambda: backend.use("cupy"), RuntimeError))
        assert en == (f"backend 'cupy' was asked for by use('cupy'), but no GPU works: {english}. Use the NumPy "
                      "backend instead (unset CNNBOOK_BACKEND or call use('numpy')).")
        assert_korean(en, ko)
    finally:
        backend.gpu_status.cache_clear()


def test_a_working_gpu_is_named_in_either_language(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy())
    backend.gpu_status.cache_clear()
    try:
        (_, en), (_, ko) = both(backend.gpu_status)
    finally:
        backend.gpu_status.cache_clear()
    assert en == "CuPy 13.0.0 on Fake GPU 100"
    assert HANGUL.search(ko) and numbers(ko) == numbers(en)


def test_check_float_input_names_the_shape_the_module_wants_in_either_language():
    """The models outside ``nn`` (a ViT's patch embedding, a locally connected layer) use it too."""
    set_language("en")
    with pytest.raises(TypeError) as info:
        check_float_input(linear(), "x", None, "(N, 4)")
    assert str(info.value) == "Linear(4, 2) got a str; pass an array of shape (N, 4)"
    set_language("ko")
    with pytest.raises(TypeError) as info:
        check_float_input(linear(), "x", None, "(N, 4)")
    assert "(N, 4)" in str(info.value) and HANGUL.search(str(info.value)) and "of shape" not in str(info.value)


# ---- nn.summary's table -------------------------------------------------------------------------------------
def width(text: str) -> int:
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_the_summary_table_speaks_korean_in_straight_columns():
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(8 * 14 * 14, 10, rng=1))
    en, ko = both(lambda: repr(nn.summary(model, (1, 28, 28))))
    assert en.splitlines()[0].split() == ["layer", "output", "shape", "parameters"]
    assert en.splitlines()[2].startswith("input ") and en.endswith("\ntotal parameters: 15,770")
    head, *_ = ko.splitlines()
    assert head.split() == ["층", "출력", "모양", "파라미터"] and ko.endswith("\n전체 파라미터: 15,770")
    assert ko.splitlines()[2].startswith("입력 ")
    assert numbers(ko) == numbers(en) and not english_left(head)
    for text in (en, ko):
        *table, _ = text.splitlines()
        assert len({width(line) for line in table}) == 1, text  # every row as wide as the rules
        columns = {width(line[:line.index("(N,")]) for line in table[2:-1]}
        assert len(columns) == 1, text  # the shapes start in one column


# ---- the catalog ---------------------------------------------------------------------------------------------
def core_entries():
    po = polib.pofile(str(PO))
    return [e for e in po if not e.obsolete and any(path.removeprefix("cnnbook/") in SOURCES
                                                    for path, _ in e.occurrences)]


def test_messages_po_holds_this_parts_templates_all_translated_with_their_fields():
    assert set(catalog.LITERAL_SOURCES["messages.po"]) >= {"layers", "commands/doctor.py", "nn", "optim.py",
                                                          "backend.py"}
    po = polib.pofile(str(PO))
    assert {e.msgid for e in po if not e.obsolete} == set(catalog.domain_templates("messages.po"))
    assert not po.obsolete_entries() and not po.fuzzy_entries() and not po.untranslated_entries()
    used = {t.text for source in SOURCES for t in catalog.templates_in(ROOT / "cnnbook" / source)}
    assert len(used) > 45
    entries = {e.msgid: e for e in po}
    for text in used:
        entry = entries[text]
        assert entry.msgstr and fields(entry.msgstr) == fields(text), text
        assert HANGUL.search(entry.msgstr), text
        assert numbers(entry.msgstr) == numbers(text), text
        assert not english_left(re.sub(r"\{[^}]*\}", " ", entry.msgstr)), entry.msgstr
    for source in SOURCES:
        if source not in ("layers/parallel.py", "nn/__init__.py"):  # these two show the learner no text
            assert catalog.templates_in(ROOT / "cnnbook" / source), source


# the words of this part's messages and their one Korean term (notebooks/ko/glossary.md, or the catalogs' use)
TERMS = {"weights?": "가중치", "parameters?": "파라미터", "labels?": "레이블", "channels?": "채널",
         "filters?": "필터", "bias": "편향", "backends?": "백엔드", "optimizer": "옵티마이저", "gradient": "그래디언트",
         "tokens?": "토큰", "batch": "배치", "pooling": "풀링", "window": "윈도우", "layers?": "층",
         "features?": "특징", "examples?": "예제", "loss": "손실", "input": "입력", "class(?:es)?": "클래스"}


def test_the_korean_uses_the_glossary_terms_and_chooses_its_particles():
    entries = core_entries()
    assert len(entries) > 45
    glossary_terms = {en: ko for en, ko, _ in glossary()}
    for en in ("weight", "parameter", "label", "channel", "filter", "bias", "backend", "gradient", "token",
               "batch", "pooling", "window"):
        assert glossary_terms[en] == TERMS[next(k for k in TERMS if re.fullmatch(k, en))], en
    avoided = [avoid for _, _, avoids in glossary() for avoid in avoids]
    for e in entries:
        # the English words, leaving out the fields and the code a learner types (x.shape, in_channels, `...`)
        words = re.sub(r"\{[^}]*\}|`[^`]*`|'[^']*'|\S*[._=(]\S*", " ", e.msgid)
        for en, ko in TERMS.items():
            if re.search(rf"\b{en}\b", words, re.IGNORECASE):
                assert ko in e.msgstr, (en, e.msgid, e.msgstr)
        assert not [a for a in avoided if a in e.msgstr], e.msgstr
        assert not re.search(r"\((이|가|을|를|은|는|으|과|와)\)", e.msgstr), e.msgstr
        # no particle whose form depends on the word before right after a {field}: its value varies
        assert not re.search(r"\}(?:이|가|을|를|은|는|과|와|으로|로)(?![가-힣])", e.msgstr), e.msgstr


# ---- the source ----------------------------------------------------------------------------------------------
def is_tr_call(node) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr"


@pytest.mark.parametrize("source", SOURCES)
def test_no_raise_or_warning_of_this_part_has_a_bare_english_message(source):
    tree = ast.parse((ROOT / "cnnbook" / source).read_text(encoding="utf-8"))
    bare = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            if not is_tr_call(node.exc.args[0]):
                bare.append(node.lineno)
        if (isinstance(node, ast.Call) and node.args and ast.unparse(node.func) in ("warnings.warn", "warn")
                and not is_tr_call(node.args[0])):
            bare.append(node.lineno)
    assert not bare, f"cnnbook/{source}: lines {bare} raise or warn without tr(...)"


def test_the_good_path_never_looks_a_message_up(monkeypatch):
    """A training step (forward, loss, backward, optimizer step) through every layer of this part calls no ``tr``:
    the messages are looked up only when something is wrong."""
    def refuse(template, **values):
        raise AssertionError(f"tr called on the good path: {template!r}")
    for module in (cnnbook.layers.basic, cnnbook.layers.conv, cnnbook.layers.losses, cnnbook.layers.pool,
                   cnnbook.layers.checks, cnnbook.layers.sizes, cnnbook.nn.base, cnnbook.nn.modules,
                   cnnbook.nn.tokens, optim, backend):
        monkeypatch.setattr(module, "tr", refuse)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2),
                          nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4 * 2 * 2, 3, rng=1))
    tokens = nn.Sequential(nn.TokenLinear(6, 4, rng=2), nn.LayerNorm(4))
    x = np.random.default_rng(0).normal(size=(5, 1, 8, 8)).astype(np.float32)
    y = np.array([0, 1, 2, 1, 0])
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    with backend.blas_threads(2):
        scores = model(x)
        _, dscores = layers.softmax_cross_entropy(scores, y)
        layers.svm_loss(scores, y)
        model.backward(dscores)
        model.backward_params(dscores)
        opt.step()
    out = tokens(np.ones((2, 3, 6), np.float32))
    tokens.backward(np.ones_like(out))
    optim.Adam(tokens.parameters()).step()
    backend.get_array_module(x, y)
    backend.as_generator(0)
