"""Evaluations: reference means, first-improvement equivalence with one-by-one evaluation, exact budgets,
cache counting."""

import itertools

import numpy as np
import pytest

from benchmarks.mix import program_mix
from karel.interpreter import evaluate, mean_return
from karel.parser import parse
from karel.tasks import make
from synthesis.evaluator import Evaluator


@pytest.fixture(scope="module")
def task():
    return make("Harvester")


def test_scores_are_the_reference_means(task):
    programs = program_mix(seed=1, count=40)
    scores = Evaluator(task, budget=100, instances=8).scores(programs)
    assert scores == [mean_return(evaluate(p, task, range(8))) for p in programs]


def one_by_one(scores, k, threshold, budget):
    """The reference's loop: evaluate in order, count each, stop at the first strictly better score."""
    for i, score in enumerate(scores[:k]):
        if i + 1 > budget:
            return None, budget
        if score > threshold:
            return i, i + 1
    return None, min(k, budget, len(scores))


def test_first_improvement_matches_one_by_one_evaluation(task):
    rng = np.random.default_rng(0)
    pool = program_mix(seed=2, count=300)
    reference = Evaluator(task, budget=10**6, instances=8)
    pool_scores = dict(zip(map(str, pool), reference.scores(pool)))
    for trial in range(40):
        order = [pool[i] for i in rng.permutation(len(pool))]
        k = int(rng.integers(1, 300))
        budget = int(rng.integers(1, 400))
        threshold = float(rng.choice(list(pool_scores.values())))
        evaluator = Evaluator(task, budget=budget, instances=8)
        index, counted = evaluator.first_improvement(iter(order), k, threshold)
        expected_index, expected_count = one_by_one([pool_scores[str(p)] for p in order], k, threshold, budget)
        assert (index, len(counted), evaluator.evaluations) == (expected_index, expected_count, expected_count), trial
        assert [e.program for e in counted] == order[:expected_count]
        assert [e.index for e in counted] == list(range(1, expected_count + 1))


def test_budget_is_exact_and_counts_repeats(task):
    evaluator = Evaluator(task, budget=10, instances=4)
    a, b = parse("DEF run m( move m)"), parse("DEF run m( pickMarker move m)")
    counted = evaluator.evaluate([a, b, a, a, b, *program_mix(seed=3, count=20)])
    assert len(counted) == 10 and evaluator.evaluations == 10 and evaluator.remaining == 0
    assert counted[2].score == counted[0].score
    assert [e.unique for e in counted[:5]] == [1, 2, 2, 2, 2]
    assert evaluator.executed <= 2 + 5 + 20  # repeats were not executed again
    assert evaluator.evaluate([a]) == []  # nothing more is counted


def test_cache_executes_each_program_once(task):
    evaluator = Evaluator(task, budget=1000, instances=4)
    programs = program_mix(seed=4, count=30)
    first = evaluator.scores(programs)
    executed = evaluator.executed
    assert evaluator.scores(list(itertools.chain(programs, programs))) == first + first
    assert evaluator.executed == executed
    assert evaluator.evaluations == 0  # scoring alone counts nothing


def test_bounded_cache_gives_the_same_scores(task):
    small = Evaluator(task, budget=1000, instances=4, cache_size=8)
    big = Evaluator(task, budget=1000, instances=4)
    programs = program_mix(seed=5, count=40)
    assert small.scores(programs + programs[:10]) == big.scores(programs + programs[:10])
