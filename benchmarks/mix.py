"""A fixed, seeded program mix for differential tests and benchmarks of the executors.

Two thirds of the programs are mutants of well-known programs (the published fixtures of LLM-GS and
prog_policies): one statement of a random block replaced by freshly sampled statements; the rest are
random programs of the search space (`sample_search_program`). The mix is deterministic for a seed, and
exists for Karel and for MiniGrid (`language`).

It lives outside the installed packages: tests import it as `benchmarks.mix` (pytest puts the repository
root on `sys.path`, `tests/` being a package), the benchmark scripts beside it as `mix` (a script's own
folder is on `sys.path`).
"""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np

from karel.dsl import Perception
from karel.language import KAREL, Language
from karel.minigrid.language import MINIGRID
from karel.parser import parse
from karel.program import Feature, Not, Program, Repeat, Stmt, While, blocks
from karel.sampler import sample_search_program, sample_statement

FIXTURE_PROGRAMS = (
    "DEF run m( REPEAT R=4 r( WHILE c( frontIsClear c) w( move w) putMarker turnLeft r) m)",
    "DEF run m( WHILE c( noMarkersPresent c) w( IFELSE c( rightIsClear c) i( turnRight move i) ELSE e( IFELSE c( frontIsClear c) i( move i) ELSE e( turnLeft e) e) w) m)",
    "DEF run m( WHILE c( noMarkersPresent c) w( turnLeft move turnRight move w) m)",
    "DEF run m( WHILE c( frontIsClear c) w( IF c( markersPresent c) i( putMarker i) move w) IF c( markersPresent c) i( putMarker i) m)",
    "DEF run m( REPEAT R=19 r( WHILE c( markersPresent c) w( pickMarker move w) turnLeft move turnLeft r) m)",
    "DEF run m( WHILE c( markersPresent c) w( pickMarker IFELSE c( frontIsClear c) i( move i) ELSE e( turnRight move e) w) m)",
    "DEF run m( REPEAT R=19 r( REPEAT R=19 r( IF c( markersPresent c) i( pickMarker i) IFELSE c( leftIsClear c) i( turnLeft move i) ELSE e( IFELSE c( frontIsClear c) i( move i) ELSE e( turnRight e) e) r) r) m)",
    "DEF run m( WHILE c( frontIsClear c) w( turnLeft move turnRight turnRight w) m)",
    "DEF run m( REPEAT R=19 r( REPEAT R=19 r( REPEAT R=19 r( turnLeft turnRight r) r) r) m)",
)  # fmt: skip
MINIGRID_FIXTURE_PROGRAMS = (
    "DEF run m( REPEAT R=19 r( IFELSE c( front_object_type h( lava h) c) i( right forward left i) ELSE e( forward e) r) m)",
    "DEF run m( WHILE c( not c( front_object_type h( ball h) c) c) w( left w) pickup m)",
    "DEF run m( WHILE c( not c( front_object_color h( red h) c) c) w( IFELSE c( front_is_clear c) i( forward i) ELSE e( left e) w) toggle m)",
    "DEF run m( WHILE c( front_is_clear c) w( IFELSE c( front_object_type h( lava h) c) i( right forward left i) ELSE e( forward e) w) right WHILE c( front_is_clear c) w( forward w) m)",
)  # fmt: skip
FIXTURES = {KAREL: FIXTURE_PROGRAMS, MINIGRID: MINIGRID_FIXTURE_PROGRAMS}


def all_blocks(block: tuple[Stmt, ...]) -> list[tuple[Stmt, ...]]:
    """`block` and every block nested in it, in pre-order."""
    found = [block]
    for stmt in block:
        for inner in blocks(stmt):
            found += all_blocks(inner)
    return found


def _replace_block(node, old: tuple, new: tuple):
    if isinstance(node, tuple):
        return new if node is old else tuple(_replace_block(s, old, new) for s in node)
    changes = {f.name: _replace_block(getattr(node, f.name), old, new) for f in fields(node)
               if isinstance(getattr(node, f.name), tuple)}  # fmt: skip
    return replace(node, **changes) if changes else node


def mutant(program: Program, rng: np.random.Generator, language: Language = KAREL) -> Program:
    """`program` with one statement of a random block replaced by 1..6 freshly sampled statements."""
    candidates = all_blocks(program.body)
    block = candidates[int(rng.integers(len(candidates)))]
    i = int(rng.integers(len(block)))
    fresh = sample_statement(rng, height=3, language=language)
    return _replace_block(program, block, block[:i] + fresh + block[i + 1 :])


def program_mix(seed: int, count: int, language: Language = KAREL) -> list[Program]:
    """`count` programs: random search-space programs and fixture mutants, deterministic for `seed`."""
    rng = np.random.default_rng(seed)
    fixtures = [parse(text, language) for text in FIXTURES[language]]
    return [
        sample_search_program(rng, language) if i % 3 == 0
        else mutant(fixtures[int(rng.integers(len(fixtures)))], rng, language)
        for i in range(count)
    ]  # fmt: skip


def repeat_nest(rng: np.random.Generator) -> Program:
    """A REPEAT nest 3 deep with counts 12..19 around a few random statements: usually runs out of the
    10,000-call budget (19^3 iterations of even one action exceed it)."""
    body = sample_statement(rng, height=3)
    for _ in range(3):
        body = (Repeat(int(rng.integers(12, 20)), body),)
    return Program(body)


def busy_while(rng: np.random.Generator) -> Program:
    """A WHILE whose condition stays true for long (a `not` of a perception that is often false, or
    frontIsClear) around random statements that turn, move and put markers: many loop-detector checks."""
    perception = [Perception.markersPresent, Perception.frontIsClear, Perception.leftIsClear][int(rng.integers(3))]
    cond = Not(Feature(perception)) if perception == Perception.markersPresent else Feature(perception)
    return Program((While(cond, sample_statement(rng, height=3)),))


def benchmark_mix(seed: int, count: int) -> list[Program]:
    """The executor benchmark's Karel mix, like the programs an LLM-GS search evaluates: in turn a random
    search-space program, a fixture mutant, a budget-exhausting REPEAT nest (`repeat_nest`) and a loop-heavy
    WHILE (`busy_while`); deterministic for `seed`."""
    rng = np.random.default_rng(seed)
    fixtures = [parse(text) for text in FIXTURE_PROGRAMS]
    makers = (lambda: sample_search_program(rng), lambda: mutant(fixtures[int(rng.integers(len(fixtures)))], rng),
              lambda: repeat_nest(rng), lambda: busy_while(rng))  # fmt: skip
    return [makers[i % 4]() for i in range(count)]
