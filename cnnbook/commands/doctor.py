"""``python -m cnnbook doctor``: can the workbook run here, and on what?

Prints versions, the backend in use, whether a GPU works, where the data was found, and which of the
package's extras (``pip install -e ".[NAME]"``) are installed and what each adds.
Exit status 1, with the reason, when the workbook cannot run.

``--lang en|ko`` chooses the language of its lines; without it, the language in use (``$CNNBOOK_LANG``, or
the Korean edition's folder) decides, as for the notebooks (:mod:`cnnbook.course.language`).
"""
from __future__ import annotations

import importlib
import importlib.metadata
import os
import platform
import re

from cnnbook.commands.cli import add_lang_argument
from cnnbook.course.language import N_, set_language, tr

# (import name, pip name, needed to run the workbook)
PACKAGES = [
    ("numpy", "numpy", True),
    ("matplotlib", "matplotlib", True),
    ("ipywidgets", "ipywidgets", True),
    ("skimage", "scikit-image", True),
    ("tqdm", "tqdm", True),
    ("nbformat", "nbformat", True),
    ("jupyterlab", "jupyterlab", False),
    ("cupy", "cupy-cuda12x / cupy-cuda13x", False),
    ("torch", "torch", False),
]


EXTRAS = {  # the package's extras (pyproject.toml) and what each adds, in the order a learner meets them
    "lab": N_("JupyterLab, to open the notebooks (`python -m cnnbook lab`)"),
    "instructor": N_("nbgrader, to generate and autograde the exercises (docs/LAB-GUIDE.md)"),
    "book": N_("Sphinx and MyST-NB, to build the web book (`python -m cnnbook book OUTDIR`)"),
    "gpu": N_("CuPy, to run on an NVIDIA GPU (`CNNBOOK_BACKEND=cupy`)"),
    "torch": N_("PyTorch, for notebook 13 (from cnnbook to PyTorch); the rest of the workbook runs without it"),
    "bench": N_("PyTorch, which `python -m cnnbook bench` compares with"),
    "test": N_("pytest, nbval, Playwright and the rest: everything the tests need"),
}  # shown through tr, in the language in use
_REQUIREMENT = re.compile(r"^\s*(?P<name>[A-Za-z0-9._-]+)\s*(?:\[(?P<extras>[^\]]*)\])?")


def extra_requirements(requires, extra: str) -> set[str]:
    """The distributions that ``extra`` adds, from the package's ``Requires-Dist`` lines ``requires``.

    An extra that names the package's own extras (``cnnbook[lab,book]``) adds theirs too; a requirement whose
    other markers (e.g. ``python_version``) exclude this Python is left out.
    """
    from packaging.markers import Marker  # packaging comes with pip and JupyterLab; only for this report
    names = set()
    for line in requires:
        spec, _, marker = line.partition(";")
        if not marker or not Marker(marker).evaluate({"extra": extra}):
            continue
        match = _REQUIREMENT.match(spec)
        if match["name"].lower() == "cnnbook":
            for inner in (match["extras"] or "").split(","):
                names |= extra_requirements(requires, inner.strip()) if inner.strip() else set()
        else:
            names.add(match["name"])
    return names


def extras_report() -> list[str]:
    """One line per extra: installed or not, and what it adds."""
    try:
        requires = importlib.metadata.requires("cnnbook") or []
        import packaging.markers  # noqa: F401
    except importlib.metadata.PackageNotFoundError:
        return [tr("extras: unknown, cnnbook is not installed (`pip install -r requirements.txt` in a clone)")]
    except ImportError:
        return [tr("extras: unknown, reading them needs `packaging` (`pip install packaging`)")]
    lines = [tr('extras (pip install -e ".[NAME]" in a clone, "cnnbook[NAME]" from a wheel):')]
    for extra, adds in EXTRAS.items():
        missing = sorted(name for name in extra_requirements(requires, extra) if not _installed(name))
        state = tr("installed") if not missing else tr(
            "not installed (missing {names})", names=", ".join(missing[:3]) + (", ..." if len(missing) > 3 else ""))
        lines.append(f"  {extra:<11} {state}: {tr(adds)}")
    return lines


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def add_arguments(parser) -> None:
    add_lang_argument(parser)


def _version(module_name: str):
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a broken install can raise anything on import
        return None, f"{type(exc).__name__}: {exc}"
    return getattr(module, "__version__", "?"), None


def _data_report() -> tuple[list[str], list[str]]:
    """Lines about the data and the notebooks, and problems that stop the workbook."""
    try:
        from cnnbook.data import fashion as data
        from cnnbook.data.workbook import restore_hint, workbook_dir
    except Exception as exc:
        return [], [tr("cnnbook.data does not import: {error}", error=exc)]
    lines, problems = [], []
    notebooks = workbook_dir("notebooks")
    count = len(list(notebooks.glob("*.ipynb")))
    if count:
        lines.append(tr("notebooks: {count} in {folder}", count=count, folder=notebooks))
    else:
        problems.append(tr("no notebooks in {folder}. {hint}", folder=notebooks, hint=restore_hint("notebooks")))
    korean = len(list((notebooks / "ko").glob("*.ipynb")))
    lines.append(tr("Korean edition: {count} notebooks in {folder} (`python -m cnnbook lab --lang ko`)",
                    count=korean, folder=notebooks / "ko")
                 if korean else tr("Korean edition: missing from {folder}. {hint}", folder=notebooks / "ko",
                                   hint=restore_hint("notebooks")))
    from cnnbook.course.book import find_font
    font = find_font()
    lines.append(tr("web book: Hangul font {font}", font=font) if font else
                 tr("web book: no Hangul font to bundle (`apt-get install fonts-nanum`, or "
                    "`python -m cnnbook book OUTDIR --font FILE`); the Korean pages would use the reader's fonts"))
    try:
        found = data.locate_fashion_mnist()
    except data.DataError as exc:  # $CNNBOOK_DATA names no folder, or a folder sits where a file should
        problems.append(str(exc))
        return lines, problems
    try:
        X, _ = data.load_fashion_mnist("test", full=False)
        lines.append(tr("data: bundled Fashion-MNIST subset verified ({count} test images) in {folder}",
                        count=X.shape[0], folder=os.path.dirname(data.subset_path())))
    except Exception as exc:
        problems.append(tr("the bundled Fashion-MNIST subset cannot be read: {error}", error=exc))
    if all(found.values()):
        folders = sorted({os.path.dirname(p) for p in found.values()})
        lines.append(tr("data: official Fashion-MNIST files (full=True) found in {folders}",
                        folders=", ".join(folders)))
    else:
        missing = ", ".join(name for name, p in found.items() if p is None)
        lines.append(tr("data: official files not found ({missing}); full=True would download them into "
                        "{folder}, or `apt-get install dataset-fashion-mnist` provides them", missing=missing,
                        folder=data.DOWNLOAD_DIR))
    return lines, problems


def run(args) -> int:
    lang = getattr(args, "lang", None)
    if lang is None:
        return _report()
    set_language(lang)
    try:
        return _report()
    finally:
        set_language(None)  # back to the automatic choice, for whatever runs after in this process


def _report() -> int:
    from cnnbook import __version__, backend

    problems = []
    print(tr("cnnbook {version} on Python {python} ({machine}, {system})", version=__version__,
             python=platform.python_version(), machine=platform.machine(), system=platform.system()))
    for module_name, _pip_name, needed in PACKAGES:
        version, error = _version(module_name)
        if version is not None:
            print(f"  {module_name:<11} {version}")
        else:
            print(f"  {module_name:<11} {tr('missing') if needed else tr('missing (optional)')}")
            if needed:
                problems.append(tr("{module} does not import ({error}); run `pip install -r requirements.txt`",
                                   module=module_name, error=error))

    for line in extras_report():
        print(line)

    works, reason = backend.gpu_status()
    print(tr("GPU: yes, {reason}", reason=reason) if works else tr("GPU: no ({reason})", reason=reason))
    try:
        name = backend.default_backend()
        print(tr("backend in use: {name}", name=name))
    except (ValueError, RuntimeError) as exc:
        problems.append(str(exc))
        print(tr("backend in use: none"))

    if not problems:  # the data are loaded onto the backend: without one, that would only repeat its error
        lines, data_problems = _data_report()
        for line in lines:
            print(line)
        problems.extend(data_problems)

    if problems:
        print("\n" + tr("The workbook cannot run here:"))
        for p in problems:
            print(f"  - {p}")
        return 1
    print("\n" + tr("All good: open the workbook with `python -m cnnbook lab`."))
    return 0
