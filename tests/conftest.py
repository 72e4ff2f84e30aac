"""Shared fixtures: paths to test data.

Torch runs one intra-op thread in the tests (`OMP_NUM_THREADS=1`, inherited by the commands the tests
start), unless the environment sets another count: the models under test are tiny, and on a machine shared
with other jobs torch's worker threads spin-wait for each other (measured on 2 loaded cores: one LEAPS
training test took 176 s with torch's default of 2 threads and 5.6 s with 1).
"""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
if "torch" in sys.modules:  # imported before this file (a plugin): the variable came too late for it
    sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
