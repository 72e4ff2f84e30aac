"""Tests for karel/sampler.py: determinism, round trips, limits, and the distributions' statistics.

The LEAPS reference numbers are the measurements in shared/reference/leaps.md section 3.1 (20k draws of
`DSLProb.random_tokens`): 32% exact duplicates; among unique programs WHILE 61%, IF 39%, IFELSE 22%,
REPEAT 17%, not 15%. Our seed-123 draw gives 32.6 / 61.0 / 37.9 / 22.7 / 17.2 / 15.3. A band of +-2.5 points
is over 5 standard errors wide yet catches a swapped pair in the statement table (IF/IFELSE, REPEAT/IFELSE,
sequence/action), a doubled `not` probability, or a grammar-level limit one step too deep (max_depth 7).
"""

from collections import Counter

import numpy as np
import pytest

from karel.parser import parse
from karel.program import (
    Act,
    If,
    IfElse,
    Not,
    Program,
    Repeat,
    While,
    max_block_length,
    nesting_depth,
    to_text,
    within_search_limits,
)
from karel.sampler import (
    sample_condition,
    sample_count,
    sample_leaps_program,
    sample_search_program,
    sample_slot,
    sample_statement,
)


@pytest.fixture(scope="module")
def leaps_programs() -> list[Program]:
    rng = np.random.default_rng(123)
    return [sample_leaps_program(rng) for _ in range(20_000)]


@pytest.fixture(scope="module")
def search_programs() -> list[Program]:
    rng = np.random.default_rng(123)
    return [sample_search_program(rng) for _ in range(10_000)]


def walk(block):
    """Every statement of a block, pre-order."""
    for stmt in block:
        yield stmt
        if isinstance(stmt, IfElse):
            yield from walk(stmt.then)
            yield from walk(stmt.orelse)
        elif not isinstance(stmt, Act):
            yield from walk(stmt.body)


@pytest.mark.parametrize("sampler", [sample_leaps_program, sample_search_program])
def test_seeded_determinism(sampler):
    def draw(seed):
        rng = np.random.default_rng(seed)
        return [to_text(sampler(rng)) for _ in range(200)]

    assert draw(7) == draw(7)
    assert draw(7) != draw(8)


@pytest.mark.parametrize("programs", ["leaps_programs", "search_programs"])
def test_parse_print_round_trip(programs, request):
    programs = request.getfixturevalue(programs)[:10_000]
    assert len(programs) == 10_000
    for program in programs:
        assert parse(to_text(program)) == program


def test_search_programs_within_limits_and_reach_them(search_programs):
    assert all(within_search_limits(p) for p in search_programs)
    # the limits are reached, so the fill's height and chain rules are not stricter than LLM-GS's
    assert max(nesting_depth(p) for p in search_programs) == 3
    assert max(max_block_length(p) for p in search_programs) == 6


def test_leaps_depth_rule_bounds(leaps_programs):
    # With max_depth 6, stmts expand at grammar levels 1, 3, 5: three nested controls, blocks of 2**3.
    assert max(nesting_depth(p) for p in leaps_programs) == 3
    assert max(max_block_length(p) for p in leaps_programs) == 8


def test_leaps_nesting_limit():
    rng = np.random.default_rng(0)
    programs = [sample_leaps_program(rng, max_nesting=0) for _ in range(2_000)]
    assert max(nesting_depth(p) for p in programs) == 1


@pytest.mark.parametrize(
    "name, expected",
    [("WHILE", 0.61), ("IF", 0.39), ("IFELSE", 0.22), ("REPEAT", 0.17), ("not", 0.15)],
)
def test_leaps_presence_rates_match_reference(leaps_programs, name, expected):
    unique = {to_text(p) for p in leaps_programs}
    rate = np.mean([name in text.split() for text in unique])
    assert rate == pytest.approx(expected, abs=0.025)


def test_leaps_duplicate_rate_matches_reference(leaps_programs):
    unique = {to_text(p) for p in leaps_programs}
    assert 1 - len(unique) / len(leaps_programs) == pytest.approx(0.32, abs=0.025)


def test_conditions_never_double_not(leaps_programs, search_programs):
    for program in leaps_programs + search_programs:
        for stmt in walk(program.body):
            if not isinstance(stmt, (Act, Repeat)):
                assert not (isinstance(stmt.cond, Not) and isinstance(stmt.cond.cond, Not))


def test_search_ifelse_condition_is_never_not(search_programs):
    ifelses = [s for p in search_programs for s in walk(p.body) if isinstance(s, IfElse)]
    assert ifelses and not any(isinstance(s.cond, Not) for s in ifelses)


def test_search_first_statement_frequencies():
    # Before rejection, the program slot draws the full table; a sequence starts with a draw renormalised
    # over the non-sequence types (divided by .5), so P(first is WHILE) = .15 + .5 * .15 / .5 = .30, etc.
    # Height 3 draws the slot like the program body does but keeps the trees small (bodies hold actions only).
    expected = {Act: 0.40, While: 0.30, If: 0.16, IfElse: 0.08, Repeat: 0.06}
    rng = np.random.default_rng(5)
    n = 20_000
    counts = Counter(type(sample_statement(rng, height=3)[0]) for _ in range(n))
    for kind, p in expected.items():
        assert counts[kind] / n == pytest.approx(p, abs=0.015), kind.__name__


def test_search_block_length_distribution():
    # Below height 4 a slot continues the chain with probability .5, so a fresh block has k < 6 statements
    # with probability .5**k and 6 with .5**5 (the sixth slot may not chain again).
    rng = np.random.default_rng(6)
    n = 20_000
    counts = Counter(len(sample_statement(rng, height=3)) for _ in range(n))
    for k in range(1, 6):
        assert counts[k] / n == pytest.approx(0.5**k, abs=0.015)
    assert counts[6] / n == pytest.approx(0.5**5, abs=0.01)
    assert set(counts) == set(range(1, 7))


def test_statement_slot_rules():
    rng = np.random.default_rng(1)
    for _ in range(500):
        # at height 4 (under three controls) only actions
        assert all(isinstance(s, Act) for s in sample_statement(rng, height=4))
        # the slot after five chained statements holds exactly one more
        assert len(sample_statement(rng, sequence=5)) == 1
        assert len(sample_statement(rng, sequence=3)) <= 3
        assert not isinstance(sample_condition(rng, allow_not=False), Not)
        assert 0 <= sample_count(rng) <= 19


def test_counts_cover_range():
    rng = np.random.default_rng(2)
    assert {sample_count(rng) for _ in range(2_000)} == set(range(20))


def test_sample_slot_dispatch():
    rng = np.random.default_rng(3)
    assert isinstance(sample_slot(rng, "stmt"), tuple)
    assert isinstance(sample_slot(rng, "int"), int)
    assert not isinstance(sample_slot(rng, "bool", allow_not=False), Not)
    with pytest.raises(ValueError, match="unknown slot type"):
        sample_slot(rng, "float")
