from __future__ import annotations

import subprocess
import sys

import unitax as ux

CHECK = """
import sys, warnings
warnings.simplefilter("error")
import unitax, unitax.cli, unitax_train
heavy = sorted(m for m in ("torch", "matplotlib") if m in sys.modules)
assert not heavy, heavy
"""


def test_import_is_light_and_quiet():
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_public_names_are_sorted_and_exist():
    assert len(set(ux.__all__)) == len(ux.__all__)  # ruff (RUF022) keeps it sorted
    assert len(ux.__all__) <= 20
    for name in ux.__all__:
        assert getattr(ux, name) is not None


def test_unitax_train_says_what_to_install_without_torch():
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import unitax_train\n"
        "try:\n    unitax_train.require_torch()\n"
        "except ImportError as err:\n    print(err)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "pip install torch==2.13.0" in result.stdout
