"""The data room speaks the learner's language: the errors and messages of ``cnnbook/data``.

A learner's mistake (a wrong split, a missing folder, an unknown shape name, a damaged file) gives today's English
word for word in the English edition, and Korean with the same exception type and the same numbers in the Korean
one. ``data.po`` holds exactly the templates of ``cnnbook/data``, all translated in the glossary's terms, and no
message of ``cnnbook/data`` is a bare English string.
"""
import ast
import hashlib
import io
import re
from pathlib import Path

import numpy as np
import polib
import pytest
from test_language_edges import HANGUL, assert_korean, both, english_left, glossary, raised

from cnnbook.course import catalog, language
from cnnbook.data import augment, colour, download, fashion, idx, images, shapes, workbook
from cnnbook.data.idx import DataError

ROOT = Path(__file__).resolve().parents[1]
DATA_SOURCES = sorted((ROOT / "cnnbook" / "data").glob("*.py"))
CLASSES = "'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'"


@pytest.fixture(autouse=True)
def automatic_language(monkeypatch):
    monkeypatch.delenv(language.ENV, raising=False)
    monkeypatch.delenv(fashion.ENV_VAR, raising=False)
    language.set_language(None)
    yield
    language.set_language(None)


def check(call, kind, english):
    (en_type, en), (ko_type, ko) = both(raised(call, kind))
    assert en == english
    assert en_type is ko_type
    assert_korean(en, ko)
    return ko


# ---- errors a learner triggers, with today's English ----------------------------------------------
ERRORS = {
    "augment: not images": (lambda: augment.random_shift(np.zeros((2, 8, 8)), 1), ValueError,
                            "expected images of shape (N, C, H, W), got (2, 8, 8)"),
    "colour: split": (lambda: colour.load_colour_patches("val"), ValueError,
                      "split='val'; choose 'train' or 'test'"),
    "fashion: class name": (lambda: fashion.class_name("Hat"), ValueError,
                            f"class 'Hat' is not a Fashion-MNIST class; the classes are {CLASSES}"),
    "fashion: class index": (lambda: fashion.class_name(10), ValueError,
                             "label=10: a Fashion-MNIST class index is an integer 0-9"),
    "fashion: class of no kind": (lambda: fashion.class_name(None), ValueError,
                                  "label=None: give a class index 0-9 or a name from FASHION_MNIST_CLASSES"),
    "fashion: split": (lambda: fashion.load_fashion_mnist("validation"), ValueError,
                       "split='validation'; choose 'train' (60,000 images, 12,000 in the subset) "
                       "or 'test' (10,000 images, 2,000 in the subset)"),
    "fashion: root without full": (lambda: fashion.load_fashion_mnist(root="here"), ValueError,
                                   f"root='here' is only used with full=True (the subset is shipped in "
                                   f"{fashion.DATA_DIR}); pass full=True or drop root"),
    "idx: two bytes": (lambda: idx.parse_idx(b"\0\0", name="f.idx"), DataError,
                       "f.idx is not an IDX file: its magic number is only 2 bytes, expected 0x0000TTDD with type "
                       "TT in {08, 09, 0b, 0c, 0d, 0e}."),
    "idx: header cut": (lambda: idx.parse_idx(b"\0\0\x08\x03\0\0", name="f.idx"), DataError,
                        "f.idx is truncated: 6 bytes, but its header alone needs 16."),
    "idx: data cut": (lambda: idx.parse_idx(b"\0\0\x08\x01\0\0\0\x05" + bytes(3), name="f.idx"), DataError,
                      "f.idx is truncated: 11 bytes, expected 13 for shape (5,) of uint8."),
    "idx: too long": (lambda: idx.parse_idx(b"\0\0\x08\x01\0\0\0\x02" + bytes(3), name="f.idx", hint="Get another."),
                      DataError, "f.idx is longer than its header says: 11 bytes, expected 10 for shape (2,) of "
                                 "uint8. Get another."),
    "download: no mirrors": (lambda: download.download_verified("f.gz", ".", [], verify=print), ValueError,
                             "mirrors is empty; pass at least one base URL, e.g. cnnbook.data.MIRRORS"),
    "download: stall": (lambda: download.download_verified("f.gz", ".", ["http://x/"], print, stall_seconds=0),
                        ValueError, "stall_seconds=0.0 must be > 0 and min_rate=1024.0 >= 0"),
    "images: unknown photo": (lambda: images.load_image("lena"), ValueError,
                              "unknown sample image 'lena'; choose one of astronaut, brick, camera, chelsea, coffee, "
                              "coins, grass, gravel, moon, rocket"),
    "images: angles": (lambda: images.transform_images(np.zeros((2, 1, 4, 4)), angle=[1, 2, 3]), ValueError,
                       "angle must be one finite number or one per image, shape (2,); got shape (3,)"),
    "images: scale": (lambda: images.transform_images(np.zeros((2, 1, 4, 4)), scale=-2), ValueError,
                      "scale must be positive; got [-2. -2.]"),
    "images: shift": (lambda: images.transform_images(np.zeros((2, 1, 4, 4)), shift=(1, 2, 3)), ValueError,
                      "shift must be (dy, dx) or one pair per image, shape (2, 2); got (3,)"),
    "images: patch size": (lambda: images.shuffle_patches(np.zeros((1, 1, 8, 8)), 3, rng=0), ValueError,
                           "patch_size=3 must divide H=8 and W=8; try one of [1, 2, 4, 8]"),
    "images: neither": (lambda: images.shuffle_patches(np.zeros((1, 1, 8, 8)), 2), ValueError,
                        "shuffle_patches takes one of rng (an int seed or numpy.random.default_rng(seed): a random "
                        "order per image) and perm (one order for every image); got neither"),
    "images: both": (lambda: images.shuffle_patches(np.zeros((1, 1, 8, 8)), 2, 0, perm=[0, 1, 2, 3]), ValueError,
                     "shuffle_patches takes one of rng (an int seed or numpy.random.default_rng(seed): a random "
                     "order per image) and perm (one order for every image); got both"),
    "images: rng": (lambda: images.shuffle_patches(np.zeros((1, 1, 8, 8)), 2, [3, 2, 1, 0]), TypeError,
                    "rng=[3, 2, 1, 0] is neither an int seed nor a numpy.random.Generator; to give every image the "
                    "same order, pass the permutation as perm=..."),
    "images: perm": (lambda: images.shuffle_patches(np.zeros((1, 1, 8, 8)), 4, perm=[0, 1, 2, 2]), ValueError,
                     "perm must be a permutation of range(4) (the 2x2 tiles), got array([0, 1, 2, 2])"),
    "shapes: label": (lambda: shapes.shape_name(7), ValueError, "label=7: a shape label is an integer 0-3"),
    "shapes: unknown shape": (lambda: shapes.make_shapes(2, 0, shape="hexagon"), ValueError,
                              "unknown shape 'hexagon'; choose one of square, circle, triangle, cross"),
    "shapes: texture labels": (lambda: shapes.make_shapes(2, 0, texture=[0, 9]), ValueError,
                               "texture must be None (random), a name, a label in 0..4, or 2 such labels; "
                               "got [0, 9]"),
    "shapes: no rng": (lambda: shapes.make_shapes(2, None), ValueError,
                       "rng is required: pass an int seed or numpy.random.default_rng(seed)"),
    "shapes: range": (lambda: shapes.make_shapes(2, 0, scale=(2, 1)), ValueError,
                      "scale=(2, 1): low > high; pass (low, high) with low <= high"),
    "shapes: angles": (lambda: shapes.make_shapes(2, 0, angle=[1, 2, 3]), ValueError,
                       "angle must be a number, a (low, high) range or an array of shape (2,); got [1, 2, 3]"),
    "shapes: scale": (lambda: shapes.make_shapes(2, 0, scale=-1), ValueError, "scale must be positive; got [-1. -1.]"),
    "shapes: shift": (lambda: shapes.make_shapes(2, 0, shift=np.zeros((3, 2))), ValueError,
                      "shift must be a number (max pixels) or an array of shape (2, 2); "
                      "got array([[0., 0.],\n       [0., 0.],\n       [0., 0.]])"),
    "workbook: kind": (lambda: workbook.workbook_dir("models"), ValueError,
                       "kind='models'; choose one of 'notebooks', 'data'"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_a_data_error_is_korean_with_the_same_type_and_numbers_and_english_is_unchanged(case):
    call, kind, english = ERRORS[case]
    check(call, kind, english)


def test_the_colour_patch_that_does_not_fit_speaks_korean():
    pytest.importorskip("skimage")
    check(lambda: colour.load_colour_patches("test", per_class=1, patch_size=40, side=64), ValueError,
          "patch_size=40 does not fit the test part of 'astronaut' (64 x 16 pixels at side=64); use a smaller "
          "patch_size, a larger side or another test_fraction")


def test_a_missing_or_wrong_root_speaks_korean(tmp_path):
    missing, a_file = tmp_path / "nowhere", tmp_path / "a_file"
    a_file.write_text("")
    check(lambda: fashion.load_fashion_mnist("test", full=True, root=missing), DataError,
          f"root='{missing}' does not exist: create it first (`mkdir -p {missing}`) to download into it, or pass "
          f"the folder that holds the official files")
    check(lambda: fashion.load_fashion_mnist("test", full=True, root=a_file), DataError,
          f"root='{a_file}' is a file, not a folder: pass the folder that holds (or is to receive) the official files")
    check(lambda: fashion.load_fashion_mnist("test", full=True, root=tmp_path, download=False), DataError,
          f"t10k-images-idx3-ubyte(.gz) is missing: looked in {tmp_path}. Pass download=True, or put the official "
          f"file into one of those folders.")


def test_a_wrong_data_folder_in_the_environment_speaks_korean(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    monkeypatch.setenv(fashion.ENV_VAR, str(missing))
    check(lambda: fashion.load_fashion_mnist("test"), DataError,
          f"$CNNBOOK_DATA='{missing}' does not exist: create that folder (`mkdir -p {missing}`), point CNNBOOK_DATA "
          f"at the folder that holds the Fashion-MNIST files, or unset it")


def test_a_folder_in_place_of_a_data_file_speaks_korean(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").mkdir()
    ko = check(lambda: fashion.load_fashion_mnist("test", full=True, root=tmp_path, download=False), DataError,
               f"{tmp_path}/t10k-images-idx3-ubyte is a folder, not a data file: move it away or remove it. Then load "
               f"again: the official file is looked for in {tmp_path}, and downloaded when missing.")
    assert "폴더" in ko


def test_an_altered_subset_names_the_repository_in_korean(tmp_path, monkeypatch):
    if not workbook.in_clone():
        pytest.skip("the hint differs in a regular install")
    monkeypatch.setattr(fashion, "DATA_DIR", str(tmp_path))
    path = tmp_path / fashion.SUBSET_FILE
    path.write_bytes(b"not an archive")
    digest = hashlib.sha256(b"not an archive").hexdigest()
    ko = check(lambda: fashion.load_fashion_mnist("test"), DataError,
               f"{path} has been altered: its SHA-256 is {digest}, expected {fashion.SUBSET_SHA256}. It is part of "
               f"the repository: restore it with `git checkout -- data/` (in {workbook.CLONE}) or rebuild it with "
               f"`python tools/make_fashion_subset.py`.")
    assert "저장소" in ko


class _BrokenResponse(io.BytesIO):
    """A reply that promises 10 bytes and delivers 5."""
    headers = {"Content-Length": "10"}

    def __init__(self):
        super().__init__(b"12345")


def test_a_broken_download_speaks_korean_in_the_message_and_the_retry_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(download.urllib.request, "urlopen", lambda url, timeout: _BrokenResponse())
    mirrors = ["http://one.invalid/", "http://two.invalid/"]

    def fail():
        download.download_verified("f.bin", str(tmp_path), mirrors, verify=print, progress=True)
    en, ko = both(raised(fail, DataError))
    lines = [f"  http://{host}.invalid/f.bin: DataError: the transfer broke off after 5 of 10 bytes"
             for host in ("one", "two")]
    assert en[1] == (f"could not download a good copy of f.bin into {tmp_path}:\n" + "\n".join(lines)
                     + "\nCheck the network connection, or copy the official file into that folder by hand.")
    assert_korean(en[1], ko[1])
    retries = [line for line in capsys.readouterr().err.splitlines() if "one.invalid" in line]
    assert retries[0] == "http://one.invalid/f.bin: the transfer broke off after 5 of 10 bytes; trying the next mirror"
    assert_korean(retries[0], retries[1])
    assert list(tmp_path.iterdir()) == []


def test_the_file_kinds_and_hints_are_korean():
    for kind in idx.A_KIND:
        en, ko = both(lambda kind=kind: idx.a_kind(kind))
        assert en.startswith("a ") and HANGUL.search(ko), (en, ko)
    en, ko = both(lambda: fashion._hint("t10k-images-idx3-ubyte"))
    assert_korean(en, ko)
    for kind in workbook.KINDS:
        en, ko = both(lambda kind=kind: workbook.restore_hint(kind))
        assert_korean(en, ko)


def test_the_data_room_looks_no_message_up_when_nothing_is_wrong(monkeypatch):
    """Loading, augmenting and drawing good data never calls tr (class and shape names are looked up by request)."""
    def refuse(*args, **kwargs):
        raise AssertionError("tr called on the good path")
    for module in (augment, colour, download, fashion, idx, images, shapes, workbook):
        if hasattr(module, "tr"):
            monkeypatch.setattr(module, "tr", refuse)
    fashion._cache.clear()
    X, y = fashion.load_fashion_mnist("test")
    assert X.shape == (2000, 1, 28, 28) and y.shape == (2000,)
    assert fashion.locate_fashion_mnist()
    X = X[:4]
    augment.Augment(shift=2, flip=True)(X, 0)
    images.shuffle_patches(X, 7, rng=0)
    images.shuffle_patches(X, 14, perm=[3, 2, 1, 0])
    shapes.make_shapes(4, 0, size=16, shape="circle", texture=[0, 1, 2, 3], scale=(0.8, 1.2), angle=[0, 1, 2, 3])


# ---- the catalog ----------------------------------------------------------------------------------
def test_data_po_holds_exactly_the_templates_in_use_all_translated():
    po = polib.pofile(str(language.CATALOG_DIR / "ko" / "data.po"))
    assert catalog.LITERAL_SOURCES["data.po"] == ("data",)
    used = set(catalog.domain_templates("data.po"))
    assert len(used) > 70
    assert {e.msgid for e in po if not e.obsolete} == used
    assert not po.obsolete_entries() and not po.fuzzy_entries() and not po.untranslated_entries()
    for source in DATA_SOURCES:
        if source.name != "__init__.py":
            assert catalog.templates_in(source), source.name


def test_data_po_uses_the_glossary_terms_no_avoided_words_no_particle_pairs_and_no_english_sentences():
    entries = [e for e in polib.pofile(str(language.CATALOG_DIR / "ko" / "data.po")) if not e.obsolete]
    avoided = [(e.msgid, avoid) for e in entries for _, _, avoids in glossary() for avoid in avoids
               if avoid in e.msgstr]
    assert not avoided
    assert not [e.msgstr for e in entries if re.search(r"\((이|가|을|를|은|는|으|과|와)\)", e.msgstr)]
    terms = {"label": "레이블", "permutation": "순열", "seed": "시드", "subset": "부분집합", "tiles": "타일",
             "folder": "폴더", "mirror": "미러"}
    for e in entries:
        words = re.sub(r"\{[^{}]*\}", " ", e.msgid)  # the English, without its {fields}
        for en, ko in terms.items():
            if re.search(rf"\b{en}\b", words) and not re.search(rf"\b{en}[=_]|\({en}\)", words):
                assert ko in e.msgstr, (en, e.msgid, e.msgstr)
        if e.msgid != e.msgstr:
            assert HANGUL.search(e.msgstr), e.msgid
        assert not english_left(e.msgstr.replace("{", " ").replace("}", " ")), e.msgstr


# ---- no bare English left in the source ----------------------------------------------------------
def _bare_text(node) -> bool:
    """A string literal, an f-string, or a sum or %-format built from them: text that no catalog can translate."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _bare_text(node.left) or _bare_text(node.right)
    return False


def _name(func) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


@pytest.mark.parametrize("source", DATA_SOURCES, ids=lambda p: p.name)
def test_no_message_of_the_data_room_is_a_bare_string(source):
    tree = ast.parse(source.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        calls = []
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            calls.append(node.exc)
        if isinstance(node, ast.Call):
            name = _name(node.func)
            if name.endswith(("Error", "Exception", "Failed")) or name in ("warn", "write", "print"):
                calls.append(node)
        for call in calls:
            if any(_bare_text(arg) for arg in call.args[:1]):
                found.append(f"{source.name}:{call.lineno}")
        if isinstance(node, ast.Raise) and node.exc is not None and _bare_text(node.exc):
            found.append(f"{source.name}:{node.lineno}")
    assert not found, found
