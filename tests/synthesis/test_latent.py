"""CEM and CEBS in the latent space of a (tiny) trained program VAE."""

import json
import math
import shutil

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from karel.interpreter import evaluate, mean_return
from karel.leaps_protocol import leaps_task
from karel.parser import parse
from karel.tasks import make
from leaps.datamodule import ProgramDataModule
from leaps.dataset import DatasetConfig, write_dataset
from leaps.module import LeapsModule
from synthesis.cli import main
from synthesis.evaluator import Evaluator
from synthesis.latent import (
    SMALL_BATCH,
    LatentCem,
    LeapsCem,
    decode,
    elite_centre,
    leaps_sigma,
    load_decoder,
    one_thread,
    rank_elites,
    top_elites,
)
from synthesis.protocol import LeapsEvaluator


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("vae")
    data = write_dataset(root / "data", DatasetConfig(programs=24, seed=2, batch=64), progress=False)
    pl.seed_everything(0)
    trainer = pl.Trainer(max_steps=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, default_root_dir=root, limit_val_batches=0)  # fmt: skip
    trainer.fit(LeapsModule(hidden=32, behaviour=False), ProgramDataModule(str(data), batch_size=8))
    path = root / "tiny.ckpt"
    trainer.save_checkpoint(path, weights_only=True)
    return path


def search(checkpoint, budget, **settings):
    evaluator = Evaluator(make("DoorKey"), budget, instances=4)
    return LatentCem(evaluator, 0, load_decoder(str(checkpoint)), **settings)


def leaps_search(checkpoint, task="MazeSparse", **settings):
    settings = {"population": 4, "elites": 2, **settings}
    evaluator = LeapsEvaluator(leaps_task(task), 1000 * (settings["population"] + 1), seed=0)
    return LeapsCem(evaluator, 0, load_decoder(str(checkpoint)), **settings)


def test_a_small_batch_decodes_on_one_thread_to_the_same_programs_and_the_thread_count_comes_back(checkpoint):
    model, threads = load_decoder(str(checkpoint)), torch.get_num_threads()
    latents = np.random.default_rng(0).standard_normal((SMALL_BATCH + 1, model.hidden))
    seen = []
    original = model.decode
    model.decode = lambda z: (seen.append((len(z), torch.get_num_threads())), original(z))[1]
    small, large = decode(model, latents[:32]), decode(model, latents)
    assert seen == [(32, 1), (SMALL_BATCH + 1, threads)]
    assert [str(p) for p in small] == [str(p) for p in large[:32]]
    assert torch.get_num_threads() == threads
    with pytest.raises(RuntimeError), one_thread():
        raise RuntimeError
    assert torch.get_num_threads() == threads


@pytest.mark.parametrize("settings", [{"population": 8, "elites": 2}, {"population": 8, "elites": 3, "beam": True}])
def test_budget_is_exact_and_the_best_program_is_tracked(checkpoint, settings):
    s = search(checkpoint, 37, **settings)
    found = []
    s.on_improvement = found.append
    s.run()
    assert s.evaluator.evaluations == 37 or s.best_return >= 1 - 1e-9
    assert found[-1].program == s.best_program
    assert mean_return(evaluate(s.best_program, make("DoorKey"), range(4))) == s.best_return


def test_llm_gs_cem_starts_from_one_latent_and_restarts_on_the_first_stalled_iteration(checkpoint):
    s = search(checkpoint, 10_000, population=4, elites=2, sigma=1e-6)
    s.step()  # a search starts: its one N(0, I) latent is evaluated, then k neighbours are drawn around it
    assert (s.evaluator.evaluations, s.searches, s.candidates.shape) == (1, 1, (4, 32))
    s.step()  # the k neighbours (all the same program at this sigma): the first elite mean always improves
    assert s.evaluator.evaluations == 5 and s.candidates is not None
    s.step()  # the same programs again: no better elite mean, so the search ends
    assert s.evaluator.evaluations == 9 and s.candidates is None
    s.step()  # a fresh start
    assert (s.evaluator.evaluations, s.searches) == (10, 2)


def test_cebs_draws_k_over_e_neighbours_around_each_elite(checkpoint):
    s = search(checkpoint, 10_000, population=8, elites=3, beam=True)
    s.step()
    s.step()
    assert len(s.candidates) == 3 * (8 // 3)


def test_elites_rank_as_each_reference_ranks_them():
    programs = [parse(f"DEF run m( {body} m)") for body in ("move", "turnLeft", "putMarker", "move move", "move")]
    returns = [0.0, 0.0, 0.5, 0.0, 0.0]
    assert top_elites(returns, 3) == [2, 0, 1]  # LLM-GS: by return, ties to the earlier member
    # LEAPS sorts by (score, program text) and keeps the last: "turnLeft" > "move move" > "move" (twice: the later)
    assert rank_elites(returns, programs, 4) == [2, 1, 3, 4]


def test_weighted_mean_weights_elites_by_return_plus_the_syntax_bonus():
    latents = np.array([[1.0, 0.0], [0.0, 3.0]])
    tied = elite_centre(latents, np.array([0.0, 0.0]), "weighted_mean")  # LEAPS scores both 0.1
    assert np.allclose(tied, [0.5, 1.5], atol=1e-4)
    better = elite_centre(latents, np.array([0.9, 0.0]), "weighted_mean")  # scores 1.0 and 0.1
    assert np.allclose(better, [1.0 / 1.1, 0.3 / 1.1], atol=1e-4)
    assert np.allclose(elite_centre(latents, np.array([0.9, 0.0]), "mean"), [0.5, 1.5])


def test_leaps_sigma_schedule():
    gamma = (0.1 / 0.25) ** (1 / 500)
    assert [leaps_sigma(k, 0.25, 1000, True) for k in (1, 2)] == [0.25, 0.25]  # held for two iterations
    assert math.isclose(leaps_sigma(3, 0.25, 1000, True), 0.25 * gamma)
    assert math.isclose(leaps_sigma(502, 0.25, 1000, True), 0.1) and leaps_sigma(503, 0.25, 1000, True) == 0.1
    assert leaps_sigma(700, 0.25, 1000, False) == 0.25


def test_leaps_cem_counts_population_plus_centre_and_redraws_worlds_every_100_iterations(checkpoint):
    s = leaps_search(checkpoint)
    first = [w.world.to_text() for w in s.evaluator.instances]
    for _ in range(100):
        s.step()
    assert s.evaluator.evaluations == 100 * (4 + 1) and s.evaluator.set_index == 0
    s.step()
    assert s.evaluator.set_index == 1 and [w.world.to_text() for w in s.evaluator.instances] != first
    assert s.centre_return is not None and s.iteration == 101


def test_leaps_cem_stops_after_ten_perfect_centres_or_its_iterations(checkpoint):
    s = leaps_search(checkpoint, iterations=3)
    s.run()
    assert s.iteration == 3 and s.evaluator.evaluations == 3 * 5 and s.done
    s = leaps_search(checkpoint)
    s.centre_returns = [1.0] * 9 + [0.5]
    assert not s.done
    s.centre_returns = [1.0] * 10
    assert s.converged and s.done


@pytest.mark.parametrize("make_search", [
    lambda c: search(c, 10_000, population=6, elites=2), lambda c: search(c, 10_000, population=6, elites=2, beam=True),
    lambda c: leaps_search(c, "TopOff", init="ones", exp_decay=True),
])  # fmt: skip
def test_state_round_trip_continues_identically(checkpoint, make_search):
    a = make_search(checkpoint)
    for _ in range(4):
        a.step()
    b = make_search(checkpoint)
    b.step()
    c = make_search(checkpoint)
    c.load_state_dict(json.loads(json.dumps(b.state_dict())))
    for _ in range(3):
        c.step()
    state_a, state_c = a.state_dict(), c.state_dict()
    for state in (state_a, state_c):  # a resumed cache counts programs met before the resume as new again
        state["evaluator"].pop("unique"), state["evaluator"].pop("executed")
    assert json.dumps(state_c) == json.dumps(state_a)


def test_cli_cem_run_and_checkpoint_errors(checkpoint, tmp_path, capsys):
    assert main(["search", "--task", "MazeSparse", "--method", "cem", "--checkpoint", str(checkpoint), "--budget",
                 "40", "--population", "8", "--instances", "4", "--out", str(tmp_path), "--json",
                 "--no_progress"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["method"] == "cem" and result["evaluations"] <= 40
    weights = tmp_path / "weights.ckpt"
    shutil.copy(checkpoint, weights)
    again = ["search", "--task", "MazeSparse", "--method", "cem", "--checkpoint", str(weights), "--budget", "16",
             "--population", "8", "--instances", "4", "--out", str(tmp_path / "w"), "--json", "--no_progress"]  # fmt: skip
    assert main(again) == 0 and main(again) == 0  # finished, then found finished with the same weights
    retrained = torch.load(checkpoint, weights_only=False)
    retrained["state_dict"]["model.mu.bias"] += 1.0
    torch.save(retrained, weights)  # the same path, other weights
    capsys.readouterr()
    assert main(again) == 2
    assert "other weights" in capsys.readouterr().err
    assert main(["search", "--task", "MazeSparse", "--method", "cem", "--checkpoint", str(tmp_path / "none.ckpt"),
                 "--out", str(tmp_path)]) == 2  # fmt: skip
    assert "not found" in capsys.readouterr().err
    broken = torch.load(checkpoint, weights_only=False)
    broken["state_dict"].pop("model.mu.weight")
    torch.save(broken, tmp_path / "broken.ckpt")
    assert main(["search", "--task", "MazeSparse", "--method", "cebs", "--checkpoint", str(tmp_path / "broken.ckpt"),
                 "--out", str(tmp_path / "b")]) == 2  # fmt: skip
    assert "missing model.mu.weight" in capsys.readouterr().err


@pytest.mark.parametrize("method", ["cem", "cebs"])
@pytest.mark.parametrize("kind", ["random_bytes", "truncated", "empty", "foreign_dict", "folder"])
def test_cli_answers_a_bad_checkpoint_with_one_line(method, kind, tmp_path, capsys):
    from tests.leaps.test_model import corrupt_checkpoint

    path, message = corrupt_checkpoint(kind, tmp_path)
    assert main(["search", "--task", "MazeSparse", "--method", method, "--checkpoint", path, "--budget", "8",
                 "--out", str(tmp_path / "runs"), "--no_progress"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert err.startswith(f"synthesis search: error: {message}") and err.count("\n") == 1
    assert "weights_only" not in err and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("protocol", ["llm-gs", "leaps"])
def test_a_cem_run_board_has_its_populations_and_leaves_the_search_as_it_is(checkpoint, protocol, tmp_path,
                                                                            monkeypatch):  # fmt: skip
    import synthesis.inspection
    from synthesis.config import RunConfig
    from synthesis.run import Run
    from tests.synthesis.board import read_board

    monkeypatch.setattr(synthesis.inspection, "STEP_SECONDS", 0.0)  # a point per step

    config = RunConfig.from_flat({"task": "MazeSparse", "method": "cem", "checkpoint": str(checkpoint), "budget": 45,
                                  "population": 8, "instances": 4, "sigma": 0.5, "protocol": protocol})  # fmt: skip
    result = Run(config, tmp_path, progress=False).execute()
    bare = search(checkpoint, 45, population=8, sigma=0.5) if protocol == "llm-gs" else None
    if bare is not None:
        bare.evaluator = Evaluator(make("MazeSparse"), 45, instances=4)
    else:
        bare = LeapsCem(LeapsEvaluator(leaps_task("MazeSparse"), 45, seed=0), 0, load_decoder(str(checkpoint)),
                        population=8, sigma=0.5)  # fmt: skip
    bare.run()
    assert (result["best_program"], result["evaluations"]) == (str(bare.best_program), bare.evaluator.evaluations)
    scalars = read_board(tmp_path / "MazeSparse" / "cem" / "seed_0" / "tb")["scalars"]
    populations = scalars["cem/population_mean"]
    assert {v for _, v in scalars["cem/sigma"]} == {0.5}
    assert all(1 <= v <= 8 for _, v in scalars["cem/distinct_programs"])
    assert all(e >= m - 1e-6 for (_, e), (_, m) in zip(scalars["cem/elite_mean"], populations))
    if protocol == "leaps":  # population + centre per iteration: 5 iterations of 9 evaluations
        assert [s for s, _ in populations] == [9, 18, 27, 36, 45] == [s for s, _ in scalars["cem/centre_return"]]
        assert {v for _, v in scalars["cem/world_set"]} == {0}
    else:  # a search's start latent is its one decoded centre; restarts count searches after the first
        assert len(scalars["cem/centre_return"]) == scalars["cem/restarts"][-1][1] + 1
        assert len(populations) + len(scalars["cem/centre_return"]) == len(scalars["cem/sigma"])
