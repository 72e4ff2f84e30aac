"""The program-space neighbourhood: the reference's node set, the search limits, the fast limit test."""

from collections import Counter

import numpy as np
import pytest

from karel.parser import parse
from karel.program import Not, Program, Repeat, While, nesting_depth, to_text, within_search_limits
from karel.sampler import sample_condition, sample_count, sample_leaps_program, sample_search_program
from synthesis.neighbourhood import fits, fresh_statements, mutate, neighbours, sites

# Programs and their reference node counts (all nodes but the root, Concatenate nodes included).
NODE_COUNTS = {
    "DEF run m( move m)": 1,
    "DEF run m( move turnLeft m)": 3,  # Concatenate, move, turnLeft
    "DEF run m( WHILE c( frontIsClear c) w( move w) m)": 3,  # WHILE, feature, move
    "DEF run m( WHILE c( not c( frontIsClear c) c) w( move turnLeft w) REPEAT R=3 r( putMarker r) m)": 10,
    "DEF run m( IFELSE c( markersPresent c) i( pickMarker i) ELSE e( move turnRight move e) m)": 8,
}


@pytest.mark.parametrize(("text", "count"), NODE_COUNTS.items())
def test_sites_are_the_reference_nodes(text, count):
    program = parse(text)
    found = sites(program)
    assert len(found) == count
    assert Counter(s.slot for s in found)["int"] == text.count("R=")


def test_every_site_rebuilds_its_own_position():
    program = parse("DEF run m( WHILE c( not c( frontIsClear c) c) w( move turnLeft w) REPEAT R=3 r( putMarker r) m)")
    rebuilt = {to_text(s.rebuild((parse("DEF run m( pickMarker m)").body[0],)) if s.slot == "stmt" else
                       s.rebuild(sample_condition(np.random.default_rng(0), False)) if s.slot == "bool" else
                       s.rebuild(7)) for s in sites(program)}  # fmt: skip
    assert "DEF run m( pickMarker m)" in rebuilt  # the first Concatenate replaces the whole body
    assert "DEF run m( WHILE c( not c( frontIsClear c) c) w( move turnLeft w) REPEAT R=7 r( putMarker r) m)" in rebuilt
    assert (
        "DEF run m( WHILE c( not c( frontIsClear c) c) w( move pickMarker w) REPEAT R=3 r( putMarker r) m)" in rebuilt
    )
    assert len(rebuilt) == len(sites(program))


def test_neighbours_stay_within_the_search_limits_and_change_one_subtree():
    rng = np.random.default_rng(1)
    for _ in range(60):
        parent = sample_search_program(rng)
        stream = neighbours(parent, rng)
        for _ in range(20):
            child = next(stream)
            assert within_search_limits(child)


def test_start_programs_over_the_limits_get_neighbours_within_them():
    deep = parse("DEF run m( WHILE c( frontIsClear c) w( WHILE c( frontIsClear c) w( WHILE c( frontIsClear c) w( "
                 "WHILE c( frontIsClear c) w( move w) w) w) w) m)")  # fmt: skip
    assert not within_search_limits(deep)
    rng = np.random.default_rng(2)
    assert all(within_search_limits(mutate(deep, rng)) for _ in range(30))


def test_fast_limit_test_agrees_with_the_whole_program_test():
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(300):
        parent = sample_search_program(rng)
        tokens = len(parent.tokens())
        for site in sites(parent):
            if site.slot == "stmt":
                value = fresh_statements(rng, site.height, site.chain)
            elif site.slot == "bool":
                value = sample_condition(rng, site.allow_not)
            else:
                value = sample_count(rng)
            assert fits(site, value, tokens) == within_search_limits(site.rebuild(value))
            checked += 1
    assert checked > 1000


def test_replacement_types_follow_the_slot_rules():
    rng = np.random.default_rng(4)
    kinds = Counter()
    for _ in range(3000):
        stmts = fresh_statements(rng, height=4, chain=False)  # top node unrestricted by height, no chain
        assert len(stmts) == 1
        kinds[type(stmts[0]).__name__] += 1
        for inner in getattr(stmts[0], "body", ()):  # children filled at height 5: no control flow
            assert nesting_depth(inner) == 0
    assert kinds["While"] > 0 and kinds["Act"] > kinds["While"]
    ifelse_conditions = [fresh_statements(rng, 1, True) for _ in range(3000)]
    for stmts in ifelse_conditions:
        for s in stmts:
            if type(s).__name__ == "IfElse":
                assert not isinstance(s.cond, Not)  # an IFELSE condition is never negated


def test_mutation_distribution_reaches_every_kind_of_site():
    rng = np.random.default_rng(5)
    parent = parse("DEF run m( REPEAT R=3 r( WHILE c( not c( frontIsClear c) c) w( move w) r) turnLeft m)")
    changed = Counter()
    for _ in range(2000):
        child = mutate(parent, rng)
        if child == parent:
            continue
        first = child.body[0]
        if isinstance(first, Repeat) and first.count != 3 and first.body == parent.body[0].body:
            changed["count"] += 1
        if (
            isinstance(first, Repeat)
            and isinstance(first.body[0], While)
            and first.body[0].cond != parent.body[0].body[0].cond
        ):
            changed["cond"] += 1
        if child.body[:1] == parent.body[:1] and child.body[1:] != parent.body[1:]:
            changed["last statement"] += 1
    assert set(changed) == {"count", "cond", "last statement"}


def test_leaps_programs_have_sites_and_mutate():
    rng = np.random.default_rng(6)
    for _ in range(50):
        program = sample_leaps_program(rng)
        assert len(sites(program)) >= 1
        assert isinstance(mutate(program, rng), Program)
