"""HC, SHC and random search: exact budgets, stopping, determinism, restarts, the schedule per climb, and
resumable run folders."""

import json

import pytest

from karel.interpreter import evaluate, mean_return
from karel.parser import parse
from karel.tasks import make
from synthesis.config import RunConfig
from synthesis.evaluator import SOLVED, Evaluator
from synthesis.run import Run, RunFolderError
from synthesis.search import HillClimbing, RandomSearch, ScheduledHillClimbing
from tests.synthesis.board import read_board


def run_search(search):
    found = []
    search.on_improvement = found.append
    search.run()
    return found


@pytest.mark.parametrize("budget", [1, 7, 250, 613])
def test_budget_is_spent_exactly_mid_climb(budget):
    task = make("DoorKey")  # not solved within these budgets
    search = HillClimbing(Evaluator(task, budget, instances=4), seed=0, k=50)
    run_search(search)
    assert search.evaluator.evaluations == budget


def test_search_stops_at_the_solving_evaluation_and_reports_it():
    task = make("MazeSparse")
    search = HillClimbing(Evaluator(task, 100_000, instances=8), seed=0)
    found = run_search(search)
    assert search.best_return >= SOLVED
    assert found[-1].score == search.best_return and found[-1].index == search.evaluator.evaluations
    assert mean_return(evaluate(search.best_program, task, range(8))) == search.best_return
    assert [e.score for e in found] == sorted(e.score for e in found)  # improvements only


def test_same_seed_same_search():
    task = make("Harvester")
    runs = [run_search(ScheduledHillClimbing(Evaluator(task, 1500, instances=4), seed=3)) for _ in range(2)]
    assert [(e.index, e.score, str(e.program)) for e in runs[0]] == [
        (e.index, e.score, str(e.program)) for e in runs[1]
    ]


def test_climbs_restart_and_shc_fixes_k_per_climb():
    task = make("DoorKey")
    search = ScheduledHillClimbing(Evaluator(task, 3000, instances=4), seed=1, schedule_budget=10_000)
    sizes = []
    while not search.done:
        if search.current is None:
            before = search.evaluator.evaluations
            search.step()
            sizes.append((before, search.climb_k))
        else:
            search.step()
    assert len(sizes) > 1  # local optima led to restarts
    from synthesis.schedule import neighbourhood_size

    assert all(k == neighbourhood_size(n, 10_000) for n, k in sizes)


def test_climbs_start_from_given_programs_in_turn():
    task = make("DoorKey")
    starts = [parse("DEF run m( move m)"), parse("DEF run m( turnLeft m)")]
    search = HillClimbing(Evaluator(task, 400, instances=4), seed=0, k=8, starts=starts)
    search.step()
    assert search.current == starts[0]
    while search.current is not None:
        search.step()
    search.step()
    assert search.current == starts[1]


def test_random_search_counts_up_to_the_solving_program():
    task = make("MazeSparse")
    search = RandomSearch(Evaluator(task, 20_000, instances=4), seed=0, batch=64)
    found = run_search(search)
    assert search.best_return >= SOLVED and search.evaluator.evaluations == found[-1].index


def read_log(run_dir):
    return [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("after_an_improvement", [False, True])
def test_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch, after_an_improvement):
    config = RunConfig(task="DoorKey", method="shc", seed=2, budget=4000, instances=4)
    full = Run(config, tmp_path / "a", progress=False).execute()

    steps = {"n": 0}
    original = ScheduledHillClimbing.step

    def interrupting_step(self):
        steps["n"] += 1
        if steps["n"] == 8 and not after_an_improvement:
            raise KeyboardInterrupt
        best = self.best_return
        original(self)
        if after_an_improvement and steps["n"] >= 3 and self.best_return > best:
            raise KeyboardInterrupt  # the step's improvement is logged but not checkpointed

    monkeypatch.setattr(ScheduledHillClimbing, "step", interrupting_step)
    with pytest.raises(KeyboardInterrupt):
        Run(config, tmp_path / "b", progress=False).execute()
    run_dir = tmp_path / "b" / "DoorKey" / "shc" / "seed_2"
    assert (run_dir / "checkpoint.json").exists() and not (run_dir / "result.json").exists()
    assert 0 < json.loads((run_dir / "checkpoint.json").read_text())["search"]["evaluator"]["evaluations"] < 4000
    monkeypatch.setattr(ScheduledHillClimbing, "step", original)
    resumed = Run(config, tmp_path / "b", progress=False).execute()
    for key in ("best_return", "best_program", "evaluations"):
        assert resumed[key] == full[key]
    strip = lambda log: [(r["evaluations"], r["return"], r["program"]) for r in log]
    assert strip(read_log(run_dir)) == strip(read_log(tmp_path / "a" / "DoorKey" / "shc" / "seed_2"))
    assert (run_dir / "best.txt").read_text().strip() == full["best_program"]
    assert Run(config, tmp_path / "b", progress=False).execute() == resumed  # finished runs are not re-run
    # TensorBoard drops what the interrupted attempt wrote after its checkpoint: no improvement twice
    board = read_board(run_dir / "tb")
    assert [step for step, _ in board["texts"]["best/program"]] == [r["evaluations"] for r in read_log(run_dir)]
    assert board["hparams"]["seed"] == 2 and board["session_end"] == "STATUS_SUCCESS"


def test_run_folder_with_another_config_is_refused(tmp_path):
    Run(RunConfig(task="MazeSparse", method="hc", budget=50, instances=2), tmp_path, progress=False).execute()
    with pytest.raises(RunFolderError, match="another config"):
        Run(RunConfig(task="MazeSparse", method="hc", budget=60, instances=2), tmp_path, progress=False).execute()


def test_run_folder_contents(tmp_path):
    result = Run(RunConfig(task="MazeSparse", method="hc", budget=100_000, instances=8), tmp_path,
                 progress=False).execute()  # fmt: skip
    run_dir = tmp_path / "MazeSparse" / "hc" / "seed_0"
    assert {p.name for p in run_dir.iterdir()} >= {"config.yaml", "log.jsonl", "best.txt", "checkpoint.json",
                                                   "result.json", "tb"}  # fmt: skip
    log = read_log(run_dir)
    assert log[-1]["return"] == result["best_return"] and log[-1]["evaluations"] == result["evaluations"]
    assert set(log[0]) == {"evaluations", "unique_evaluations", "wall_seconds", "return", "program"}
    assert any(p.name.startswith("events.out.tfevents") for p in (run_dir / "tb").iterdir())


def test_a_run_folder_in_use_by_another_process_is_refused(tmp_path):
    import fcntl

    config = RunConfig(task="MazeSparse", method="hc", budget=50, instances=2)
    run_dir = tmp_path / "MazeSparse" / "hc" / "seed_0"
    run_dir.mkdir(parents=True)
    with open(run_dir / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(RunFolderError, match="in use"):
            Run(config, tmp_path, progress=False).execute()
    assert Run(config, tmp_path, progress=False).execute()["evaluations"] <= 50
