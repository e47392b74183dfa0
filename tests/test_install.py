"""A regular install works on its own: a wheel, installed into a folder of its own, used from another folder.

The wheel is built from a copy of the sources (so the checkout's ``build/`` and egg-info stay untouched) with
``pip wheel --no-deps --no-build-isolation`` and installed with ``pip install --no-deps --target`` (its
dependencies are this environment's). Then ``doctor``, ``student`` and ``load_fashion_mnist()`` run from an
empty folder. The package metadata is checked too: ``requirements.txt`` (the learner's) is the package with
``[lab]`` and holds no test, grading or book tools, ``requirements-test.txt`` is ``[test]``, which holds the other
extras, and the ``[gpu]`` extra never forces a NumPy upgrade.
"""
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from cnnbook.data.fashion import DEBIAN_DIR, locate_fashion_mnist

REPO = Path(__file__).resolve().parents[1]
SOURCES = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", "cnnbook", "notebooks", "data"]
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*-ubyte", "*-ubyte.gz", ".tmp*",
                                "*.part", "bundled")

pytestmark = pytest.mark.slow


def _run(cmd, cwd, env=None, timeout=300):
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel built from a copy of the sources."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=IGNORE)
        else:
            shutil.copy2(path, src / name)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-cache-dir", "-q",
          "-w", str(tmp / "dist"), str(src)], cwd=tmp)
    (built,) = (tmp / "dist").glob("cnnbook-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """``(site, env, elsewhere)``: the folder the wheel is installed into, an environment that imports cnnbook
    from there, and an empty working folder outside the repository."""
    tmp = tmp_path_factory.mktemp("installed")
    site, elsewhere = tmp / "site", tmp / "elsewhere"
    elsewhere.mkdir()
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--no-cache-dir", "-q",
          "--target", str(site), str(wheel)], cwd=tmp)
    env = {k: v for k, v in os.environ.items() if k not in ("CNNBOOK_DATA", "CNNBOOK_BACKEND", "PYTHONPATH")}
    env.update(PYTHONPATH=str(site), XDG_CACHE_HOME=str(tmp / "cache"), MPLBACKEND="Agg")
    return site, env, elsewhere


def test_the_wheel_carries_the_notebooks_and_only_the_bundled_data(wheel):
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
    notebooks = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    assert {f"cnnbook/data/bundled/notebooks/{name}" for name in notebooks} <= names
    bundled_data = sorted(n for n in names if n.startswith("cnnbook/data/bundled/data/"))
    assert bundled_data == ["cnnbook/data/bundled/data/README.md",
                            "cnnbook/data/bundled/data/fashion-mnist-subset.npz"]  # no downloaded files


def test_installed_package_loads_the_data_from_another_folder(installed):
    site, env, elsewhere = installed
    code = ("import cnnbook; from cnnbook.data import load_fashion_mnist;"
            "X, y = load_fashion_mnist(); Xt, _ = load_fashion_mnist('test');"
            "print(cnnbook.__file__); print(X.shape, y.shape, Xt.shape);"
            "from cnnbook.data import workbook; print(workbook.in_clone()); print(workbook.restore_hint('data'))")
    lines = _run([sys.executable, "-c", code], cwd=elsewhere, env=env).stdout.splitlines()
    assert lines[0].startswith(str(site))  # the installed copy, not the checkout
    assert lines[1] == "(12000, 1, 28, 28) (12000,) (2000, 1, 28, 28)"
    assert lines[2] == "False"
    assert "git checkout" not in lines[3] and "reinstall cnnbook" in lines[3]


def test_installed_doctor_finds_notebooks_and_data(installed):
    site, env, elsewhere = installed
    out = _run([sys.executable, "-m", "cnnbook", "doctor"], cwd=elsewhere, env=env).stdout
    bundled = site / "cnnbook" / "data" / "bundled"
    count = len(list((REPO / "notebooks").glob("*.ipynb")))
    assert f"notebooks: {count} in {bundled / 'notebooks'}" in out
    assert f"subset verified (2000 test images) in {bundled / 'data'}" in out
    if all(locate_fashion_mnist(DEBIAN_DIR).values()):
        assert f"found in {DEBIAN_DIR}" in out  # Debian's dataset-fashion-mnist is installed (as in CI)
    else:
        assert f"download them into {env['XDG_CACHE_HOME']}" in out  # not into the installed package
    code = "from cnnbook.data import fashion; print(fashion.DOWNLOAD_DIR)"
    download_dir = _run([sys.executable, "-c", code], cwd=elsewhere, env=env).stdout.strip()
    assert download_dir.startswith(env["XDG_CACHE_HOME"]), download_dir  # never inside the installed package
    assert "All good" in out


def test_installed_student_writes_every_notebook(installed):
    _, env, elsewhere = installed
    out = _run([sys.executable, "-m", "cnnbook", "student", "OUT"], cwd=elsewhere, env=env).stdout
    written = sorted(p.name for p in (elsewhere / "OUT").glob("*.ipynb"))
    assert written == sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    assert f"wrote {len(written)} student notebooks" in out


def _metadata(wheel):
    with zipfile.ZipFile(wheel) as whl:
        (name,) = [n for n in whl.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(whl.read(name).decode())


def _requirements(metadata, extra=None):
    """The wheel's requirements for ``extra`` (``None``: the plain install), as ``{name: Requirement}``."""
    out = {}
    for line in metadata.get_all("Requires-Dist") or []:
        req = Requirement(line)
        marker = str(req.marker or "")
        if (f'extra == "{extra}"' in marker) if extra else ("extra ==" not in marker):
            out.setdefault(canonicalize_name(req.name), []).append(req)
    return out


def _requirement_lines(name):
    return [line.split("#")[0].strip() for line in (REPO / name).read_text().splitlines()
            if line.split("#")[0].strip()]


def test_requirement_files_are_the_package_and_one_extra():
    """One source of truth: the learner's file installs the package with [lab], the tests' file with [test]."""
    assert _requirement_lines("requirements.txt") == ["-e .[lab]"]
    assert _requirement_lines("requirements-test.txt") == ["-e .[test]"]


# What the learner's install must not pull in: the tools for testing, grading and building the web book.
NOT_FOR_LEARNERS = {"torch", "nbgrader", "pytest", "pytest-xdist", "nbval", "hypothesis", "playwright", "line-profiler",
                    "sphinx", "myst-nb", "sphinx-book-theme", "sphinx-mathjax-offline", "setuptools", "psutil"}


def test_the_learner_install_declares_no_test_grading_or_book_tools(wheel):
    meta = _metadata(wheel)
    learner = set(_requirements(meta)) | set(_requirements(meta, "lab"))
    assert {"numpy", "scipy", "matplotlib", "ipywidgets", "jupyterlab", "ipykernel"} <= learner
    assert learner & NOT_FOR_LEARNERS == set(), "the learner's install (requirements.txt) must stay lean"
    assert set(_requirements(meta, "instructor")) == {"nbgrader"}
    assert {"sphinx", "myst-nb", "nbclient"} <= set(_requirements(meta, "book"))
    assert set(_requirements(meta, "torch")) == {"torch"}                   # notebook 13 only: an extra
    (bench,) = _requirements(meta, "bench")["cnnbook"]                      # the earlier name, kept working
    assert bench.extras == {"torch"}


def test_the_test_extra_holds_the_learner_instructor_and_book_extras(wheel):
    meta = _metadata(wheel)
    (itself,) = _requirements(meta, "test")["cnnbook"]
    assert itself.extras == {"lab", "instructor", "book", "torch"}
    assert {"pytest", "nbval", "pytest-xdist", "playwright"} <= set(_requirements(meta, "test"))


# What CuPy itself requires, read from PyPI on 2026-12-01 with
#   pip install --dry-run --no-deps --ignore-installed --report r.json cupy-cuda12x==VERSION      (NumPy)
#   pip install --dry-run --no-deps --only-binary :all: --python-version 3.X --platform manylinux2014_x86_64 \
#       --target t cupy-cuda12x==VERSION                                                          (wheels)
CUPY = {  # version: (its NumPy requirement, the Pythons it has wheels for)
    "13.3.0": (">=1.22,<2.3", ("3.10", "3.11", "3.12")),
    "13.4.1": (">=1.22,<2.3", ("3.10", "3.11", "3.12", "3.13")),
    "13.5.1": (">=1.22,<2.6", ("3.10", "3.11", "3.12", "3.13")),
    "13.6.0": (">=1.22,<2.6", ("3.10", "3.11", "3.12", "3.13")),
    "14.0.0": (">=2.0,<2.6", ("3.10", "3.11", "3.12", "3.13", "3.14")),
    "14.2.0": (">=2.0,<2.6", ("3.10", "3.11", "3.12", "3.13", "3.14")),
}
NUMPY_1_PYTHONS = ("3.10", "3.11", "3.12")  # NumPy 1.26, the last 1.x, has wheels up to CPython 3.12


@pytest.mark.parametrize("python", ["3.10", "3.11", "3.12", "3.13", "3.14"])
def test_gpu_extra_resolves_without_moving_numpy(wheel, python):
    """Where NumPy 1.x can be installed, every CuPy the extra admits accepts the package's NumPy floor (so pip
    neither upgrades NumPy nor backtracks through CuPy wheels); on every Python some admitted CuPy has a wheel."""
    meta = _metadata(wheel)
    (numpy,) = _requirements(meta)["numpy"]
    floor = Version(next(s.version for s in numpy.specifier if s.operator == ">="))
    env = {"python_version": python, "python_full_version": python + ".0", "extra": "gpu"}
    cupy = [r for r in _requirements(meta, "gpu")["cupy-cuda12x"] if r.marker.evaluate(env)]
    assert len(cupy) == 1, f"on Python {python}, {len(cupy)} cupy-cuda12x requirements apply: {cupy}"
    admitted = [v for v, (_, pythons) in CUPY.items() if Version(v) in cupy[0].specifier and python in pythons]
    assert admitted, f"no CuPy wheel for Python {python} satisfies {cupy[0]}"
    if python in NUMPY_1_PYTHONS:
        forcing = [v for v in admitted if floor not in SpecifierSet(CUPY[v][0])]
        assert not forcing, f"CuPy {forcing} would force NumPy {[CUPY[v][0] for v in forcing]} over numpy>={floor}"


def test_the_wheel_carries_the_korean_edition_its_catalogs_and_the_book_theme(wheel):
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
    korean = sorted(p.name for p in (REPO / "notebooks" / "ko").glob("*.ipynb"))
    assert korean and {f"cnnbook/data/bundled/notebooks/ko/{name}" for name in korean} <= names
    assert "cnnbook/data/bundled/notebooks/ko/glossary.md" in names
    assert {"cnnbook/course/locale/ko/exercises.po", "cnnbook/course/locale/ko/claims.po",
            "cnnbook/course/book/conf.py", "cnnbook/course/book/_templates/lang-switch.html",
            "cnnbook/course/book/_static/cnnbook-book.css"} <= names


def test_installed_student_lang_ko_writes_the_korean_edition_that_speaks_korean(installed):
    _, env, elsewhere = installed
    out = _run([sys.executable, "-m", "cnnbook", "student", "KO", "--lang", "ko"], cwd=elsewhere, env=env).stdout
    written = sorted(p.name for p in (elsewhere / "KO").glob("*.ipynb"))
    assert written == sorted(p.name for p in (REPO / "notebooks" / "ko").glob("*.ipynb"))
    assert f"wrote {len(written)} Korean student notebooks" in out
    code = ("from cnnbook.course.language import get_language; from cnnbook.course.claims import ledger_text;"
            "print(get_language(), ledger_text('does not hold'))")
    shown = _run([sys.executable, "-c", code], cwd=elsewhere / "KO", env=env).stdout
    assert shown.split() == ["ko", "성립하지", "않음"]
