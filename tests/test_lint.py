"""ruff finds nothing in the repository, with the settings in pyproject.toml's ``[tool.ruff]``.

The same check a contributor runs (``ruff check .``) and the pre-commit hook runs (.pre-commit-config.yaml); ruff
is pinned in the ``[test]`` extra so that all three agree. Skipped where ruff is not installed.
"""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(importlib.util.find_spec("ruff") is None,
                                reason="ruff is not installed: pip install -r requirements-test.txt")


def ruff_check(*args, cwd=REPO):
    """``python -m ruff check ARGS`` in ``cwd``, without writing a .ruff_cache: the finished process."""
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing_in_the_repository():
    result = ruff_check(str(REPO))
    assert result.returncode == 0, (f"ruff check found problems (fix them, or run `ruff check --fix .` for the "
                                    f"safe ones):\n{result.stdout}{result.stderr}")


def test_the_repository_settings_apply_to_a_file_with_known_faults(tmp_path):
    """The check above could pass by checking nothing: the same settings must flag a planted line of 121 columns
    and an unused import."""
    planted = tmp_path / "planted.py"
    planted.write_text("import os\n\nX = " + '"' + "x" * 115 + '"\n')
    assert len(planted.read_text().splitlines()[-1]) == 121
    result = ruff_check("--config", str(REPO / "pyproject.toml"), "--output-format", "concise", str(planted),
                        cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "E501" in result.stdout and "F401" in result.stdout, result.stdout
