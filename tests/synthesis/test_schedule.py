"""The SHC neighbourhood-size schedule against the values of reference/llm_gs.md 2.1."""

import pytest

from synthesis.schedule import neighbourhood_size

KAREL = {1: 32, 10: 43, 32: 60, 100: 91, 1_000: 256, 3_000: 429, 10_000: 725, 30_000: 1095, 100_000: 1551,
         300_000: 1896, 1_000_000: 2048}  # fmt: skip
MINIGRID = {1: 32, 10: 59, 32: 117, 100: 256, 1_000: 1114, 3_000: 1723, 5_000: 1933, 10_000: 2048, 100_000: 2048}


@pytest.mark.parametrize(("budget", "table"), [(1_000_000, KAREL), (10_000, MINIGRID)])
def test_log_sin_log_schedule_matches_the_reference_table(budget, table):
    assert {n: neighbourhood_size(n, budget) for n in table} == table


def test_schedule_ends_and_linear_variants():
    assert neighbourhood_size(0, 1000) == 32 and neighbourhood_size(-5, 1000) == 32
    assert neighbourhood_size(5000, 1000) == 2048
    assert neighbourhood_size(500, 1000, 10, 110, ratio="linear", scheduler="linear", interpolation="linear") == 60
    assert neighbourhood_size(500, 1000, 16, 64, ratio="linear", scheduler="sin", interpolation="log") == 32


def test_unknown_schedule_names_are_rejected():
    with pytest.raises(ValueError, match="ratio one of"):
        neighbourhood_size(10, 100, ratio="cubic")
