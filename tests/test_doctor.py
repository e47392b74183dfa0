"""python -m cnnbook doctor: exit 0 where the workbook runs, 1 with the reason where it cannot."""
import os
import subprocess
import sys

import pytest

from cnnbook.data.workbook import workbook_dir

NOTEBOOKS = workbook_dir("notebooks")


def _doctor(**env):
    full_env = {k: v for k, v in os.environ.items() if k != "CNNBOOK_BACKEND"}
    full_env.update(env)
    return subprocess.run([sys.executable, "-m", "cnnbook", "doctor"], capture_output=True, text=True,
                          env=full_env, timeout=120)


def test_doctor_reports_numpy_and_data():
    result = _doctor()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "backend in use: numpy" in result.stdout
    assert "numpy" in result.stdout and "GPU:" in result.stdout
    assert "bundled Fashion-MNIST subset verified" in result.stdout
    assert f"notebooks: {len(list(NOTEBOOKS.glob('*.ipynb')))} in {NOTEBOOKS}" in result.stdout
    assert f"Korean edition: {len(list((NOTEBOOKS / 'ko').glob('*.ipynb')))} notebooks in {NOTEBOOKS / 'ko'}" \
        in result.stdout
    assert "web book: Hangul font" in result.stdout or "web book: no Hangul font to bundle" in result.stdout
    # the README's command, which also works as root
    assert "`python -m cnnbook lab`" in result.stdout
    assert "jupyter lab notebooks/" not in result.stdout  # JupyterLab refuses to start as root


def test_doctor_says_that_cnnbook_data_names_a_missing_folder(tmp_path, monkeypatch):
    from cnnbook.commands.doctor import _data_report  # in-process: a doctor subprocess takes seconds
    missing = tmp_path / "datsets"
    monkeypatch.setenv("CNNBOOK_DATA", str(missing))
    _, problems = _data_report()  # any problem makes doctor exit 1
    assert len(problems) == 1 and problems[0].startswith(f"$CNNBOOK_DATA='{missing}' does not exist")
    assert not missing.exists()


def test_doctor_fails_with_the_reason_for_an_unknown_backend():
    result = _doctor(CNNBOOK_BACKEND="tpu")
    assert result.returncode == 1
    assert "unknown backend 'tpu'" in result.stdout


def test_doctor_names_the_missing_gpu_when_cupy_is_asked_for():
    from cnnbook.backend import gpu_status
    if gpu_status()[0]:
        pytest.skip("a GPU works here, so CNNBOOK_BACKEND=cupy is fine")
    result = _doctor(CNNBOOK_BACKEND="cupy")
    assert result.returncode == 1
    assert "no GPU works" in result.stdout and "cupy" in result.stdout.lower()


def test_cli_without_a_command_shows_usage():
    result = subprocess.run([sys.executable, "-m", "cnnbook"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "required: COMMAND" in result.stderr
    helped = subprocess.run([sys.executable, "-m", "cnnbook", "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0
    for command in ("doctor", "train", "bench", "student"):
        assert command in helped.stdout


def test_doctor_says_which_extras_are_installed_and_what_each_adds():
    from cnnbook.commands.doctor import EXTRAS
    out = _doctor().stdout
    for extra, adds in EXTRAS.items():
        assert f"  {extra:<11} " in out and adds in out, extra
    # the test environment has the [test] extra, and with it [lab], [instructor] and [book]
    for extra in ("lab", "instructor", "book", "test"):
        assert f"  {extra:<11} installed: " in out, (extra, out)


REQUIRES = ["numpy>=1.24", 'jupyterlab>=4; extra == "lab"', 'nbgrader<0.10,>=0.9; extra == "instructor"',
            'cupy-cuda12x<14,>=13.5; python_version < "3.0" and extra == "gpu"',
            'cupy-cuda13x; python_version >= "3.0" and extra == "gpu"',
            'cnnbook[instructor,lab]; extra == "test"', 'pytest>=7.4; extra == "test"']


@pytest.mark.parametrize("extra, names", [
    ("lab", {"jupyterlab"}),
    ("instructor", {"nbgrader"}),
    ("gpu", {"cupy-cuda13x"}),  # the other requirement's marker excludes every Python 3
    ("test", {"pytest", "jupyterlab", "nbgrader"}),  # the package's own extras, expanded
    ("nothing", set()),
])
def test_an_extras_requirements_come_from_the_package_metadata(extra, names):
    from cnnbook.commands.doctor import extra_requirements
    assert extra_requirements(REQUIRES, extra) == names


def test_a_missing_extra_is_named_with_what_is_missing(monkeypatch):
    from cnnbook.commands import doctor
    monkeypatch.setattr(doctor.importlib.metadata, "requires", lambda name: REQUIRES)
    monkeypatch.setattr(doctor, "_installed", lambda name: name != "nbgrader")
    lines = doctor.extras_report()
    assert any(line.startswith("  instructor  not installed (missing nbgrader): nbgrader") for line in lines), lines
    assert any(line.startswith("  lab         installed: JupyterLab") for line in lines), lines


def test_the_book_names_the_extra_when_its_tools_are_missing(monkeypatch, tmp_path):
    import importlib.util

    from cnnbook.course import book
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "myst_nb" else real(name, *a))
    assert book.missing_tools() == ["myst_nb"]
    with pytest.raises(ValueError, match=r'needs myst_nb, not installed here: `pip install -e "\.\[book\]"`'):
        book.build_book(tmp_path / "out", langs=("en",))
    assert not (tmp_path / "out").exists()  # nothing written
