"""English that a learner would see in the Korean notebooks' code cells, found by a heuristic.

A Korean code cell may differ from the English one only in the text it shows (string literals, comments), and
everything a learner sees there should be Korean: figure titles, axis and legend labels, printed labels,
assert messages. :func:`english_literals` lists the string literals of a notebook's code cells that look like
English a learner sees:

* the literal (an f-string as one piece, its placeholders left out) has a Latin word of 3 or more letters
  (letters only: ``X_train``, ``W1`` or ``im2col`` are names, not words),
* and no Hangul (a translated text may keep names such as ReLU, VGG-16, NumPy or ``X_train``),
* and it is not one identifier-like token (``"chelsea"``, ``"train"``, ``"numpy"``, ``"C08"``): such a string
  is almost always an argument value, a key or a name, not a text;
* docstrings and f-string format specs are left out (a docstring is read in the code, like a comment).

It is a heuristic: a one-word label (``"floor"``) slips through, and an API value with a space in it
(``KERNELS["vertical edge"]``) is listed. The latter go in :data:`ALLOWED`, per notebook, each with the reason
it stays English; ``tests/test_translations.py`` fails on any other English literal. Run this file to see
the counts and the strings::

    python tests/korean_strings.py            # every Korean notebook
    python tests/korean_strings.py 03 04      # notebooks whose names start so
"""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat

KO_DIR = Path(__file__).resolve().parents[1] / "notebooks" / "ko"
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z]{3,}(?![A-Za-z0-9_])")
HANGUL = re.compile("[\uac00-\ud7a3]")
ONE_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/]*")

ALLOWED: dict[str, dict[str, str]] = {
    # notebook name -> {English literal kept on purpose: why it stays English}
    "00-start-here.ipynb": {},
    "01-five-step-recipe.ipynb": {},
    "02-from-linear-to-neural-nets.ipynb": {},
    "03-convolution.ipynb": {
        # cnnbook.explore.KERNELS's keys ("blur", "sharpen" too): the names of the hand-made filters, looked up
        # in that dict (and passed to kernel_explorer as its preset); the panels show kernel_label(name)
        "vertical edge": "a key of cnnbook.explore.KERNELS",
        "horizontal edge": "a key of cnnbook.explore.KERNELS",
        "3x3 -> ReLU -> 3x3": "a panel title made of shapes and a layer's name: nothing to translate",
    },
    "04-stride-padding-output-size.ipynb": {
        "vertical edge": "a key of cnnbook.explore.KERNELS",
        "fc,nchw->nfhw": "numpy.einsum's subscripts",
        # not listed by the heuristic (one word), English on purpose: the table's 'floor', which the prose names
    },
    # a dict key shown as a label is translated at every use (measured["스트라이드 1"]); only API values stay
    "05-receptive-field.ipynb": {},
    "06-pooling.ipynb": {
        "vertical edge": "a key of cnnbook.explore.KERNELS",
        "horizontal edge": "a key of cnnbook.explore.KERNELS",
    },
    "07-backprop-through-conv.ipynb": {
        "cols , w_mat  -> out ; dout_mat  @ cols.T -> dw ": "array names and shapes: nothing to translate",
    },
    "08-training-a-cnn.ipynb": {
        # shown through cnnbook.data.class_name, which gives the Korean name
        "Ankle boot": "a name of cnnbook.data.FASHION_MNIST_CLASSES, looked up with .index()",
    },
    "09-equivariance-invariance-sharing.ipynb": {
        "f(shift(x))": "a formula: nothing to translate",
        "shift(f(x))": "a formula: nothing to translate",
    },
    "10-cnn-vs-transformer.ipynb": {
        # "yes", "no", "cnn", "vit" too (one word: not listed): the answers check_* compares a learner's with
        "vit without position embeddings": "an answer check_shuffle_most_hurt_prediction compares with",
    },
    # 11's "shape", "texture", "neither" (one word: not listed) are the answers compared with predicted_cue
    "11-cnn-limitations.ipynb": {},
    "12-questions-and-answers.ipynb": {},
}


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the Constant nodes that are docstrings (of the module, a function or a class)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def literals(source: str) -> list[str]:
    """The texts of the string literals in ``source`` (an f-string as its constant parts joined), docstrings and
    format specs left out; ``[]`` for a cell that is not plain Python (an IPython magic)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            skip.update(id(n) for n in ast.walk(node.format_spec))
    texts = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
            texts.append((node.lineno, node.col_offset,
                          "".join(v.value for v in node.values if isinstance(v, ast.Constant))))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append((node.lineno, node.col_offset, node.value))
    return [text for _, _, text in sorted(texts)]


def looks_english(text: str) -> bool:
    """Whether ``text`` looks like English a learner sees (see the module's description)."""
    return (LATIN_WORD.search(text) is not None and HANGUL.search(text) is None
            and ONE_TOKEN.fullmatch(text.strip()) is None)


def english_literals(path: Path) -> list[str]:
    """The English-looking string literals of the code cells of the notebook at ``path``, in order."""
    nb = nbformat.read(path, as_version=4)
    return [text for cell in nb.cells if cell.cell_type == "code"
            for text in literals(cell.source) if looks_english(text)]


def unexpected(path: Path) -> list[str]:
    """:func:`english_literals` less the notebook's :data:`ALLOWED` ones."""
    allowed = ALLOWED.get(path.name, {})
    return [text for text in english_literals(path) if text not in allowed]


def main(prefixes: list[str]) -> None:
    total = 0
    for path in sorted(KO_DIR.glob("[0-9][0-9]-*.ipynb")):
        if prefixes and not path.name.startswith(tuple(prefixes)):
            continue
        found, left = english_literals(path), unexpected(path)
        total += len(found)
        print(f"{path.name}: {len(found)} English literals, {len(found) - len(left)} of them allowed")
        for text in found:
            print(f"    {'allowed ' if text not in left else ''}{text!r}")
    print(f"total: {total}")


if __name__ == "__main__":
    main(sys.argv[1:])
