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

# No deadlines: speed is measured by the benchmarks, not by timed tests (a
# first call may import pyarrow or warm a cache on a busy machine).
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("ci", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("UNITAX_HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace: dict[str, object]) -> None:
    doctest_namespace["ux"] = ux
    doctest_namespace["np"] = np
