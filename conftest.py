"""Root pytest configuration: the doctest namespace and Hypothesis profiles.

It lives at the root so that doctests collected from ``unitax/`` see ``ux``
and ``np`` whether or not any test under ``tests/`` runs.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

import unitax as ux

settings.register_profile("dev", max_examples=50)
settings.register_profile("ci", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("UNITAX_HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace: dict[str, object]) -> None:
    doctest_namespace["ux"] = ux
    doctest_namespace["np"] = np
