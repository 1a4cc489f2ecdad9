"""Fixtures shared by the tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
"""The shared data folder that CI places beside the checkout."""


@pytest.fixture
def shared() -> Path:
    """The ``../shared`` folder; tests that read real samples skip without it.

    In CI (``CI`` set) a missing folder is an error, not a skip.
    """
    if not SHARED.is_dir():
        if os.environ.get("CI"):
            raise FileNotFoundError(f"CI expects the shared data folder at {SHARED}")
        pytest.skip(f"shared data folder not found at {SHARED}")
    return SHARED
