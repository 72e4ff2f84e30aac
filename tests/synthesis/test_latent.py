"""CEM and CEBS in the latent space of a (tiny) trained program VAE."""

import json
import shutil

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from karel.interpreter import evaluate, mean_return
from karel.parser import parse
from karel.tasks import make
from leaps.datamodule import ProgramDataModule
from leaps.dataset import DatasetConfig, write_dataset
from leaps.module import LeapsModule
from synthesis.cli import main
from synthesis.evaluator import Evaluator
from synthesis.latent import LatentSearch, elite_centre, load_decoder, rank_elites


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
    return LatentSearch(evaluator, 0, load_decoder(str(checkpoint)), **settings)


@pytest.mark.parametrize("settings", [
    {"population": 8, "elites": 2, "reduction": "weighted_mean", "init": "tiny_normal", "exp_decay": True},
    {"population": 8, "elites": 3, "beam": True, "restart_timeout": 2, "init": "normal"},
])  # fmt: skip
def test_budget_is_exact_and_the_best_program_is_tracked(checkpoint, settings):
    s = search(checkpoint, 37, **settings)
    found = []
    s.on_improvement = found.append
    s.run()
    assert s.evaluator.evaluations == 37 or s.best_return >= 1 - 1e-9
    assert found[-1].program == s.best_program
    assert mean_return(evaluate(s.best_program, make("DoorKey"), range(4))) == s.best_return


def test_elites_rank_by_return_then_by_program_text_as_leaps():
    programs = [parse(f"DEF run m( {body} m)") for body in ("move", "turnLeft", "putMarker", "move move")]
    assert rank_elites([0.0, 0.0, 0.5, 0.0], programs, 3) == [2, 1, 3]  # "turnLeft" > "move move" > "move"


def test_weighted_mean_weights_elites_by_return_plus_the_syntax_bonus():
    latents = np.array([[1.0, 0.0], [0.0, 3.0]])
    tied = elite_centre(latents, np.array([0.0, 0.0]), "weighted_mean")  # LEAPS scores both 0.1
    assert np.allclose(tied, [0.5, 1.5], atol=1e-4)
    better = elite_centre(latents, np.array([0.9, 0.0]), "weighted_mean")  # scores 1.0 and 0.1
    assert np.allclose(better, [1.0 / 1.1, 0.3 / 1.1], atol=1e-4)
    assert np.allclose(elite_centre(latents, np.array([0.9, 0.0]), "mean"), [0.5, 1.5])


def test_leaps_cem_also_evaluates_each_new_centre(checkpoint):
    s = search(checkpoint, 10_000, population=4, elites=2, reduction="weighted_mean", evaluate_centre=True)
    s.step()
    s.step()
    assert s.evaluator.evaluations == 2 * (4 + 1)  # LEAPS counts population + 1 programs per iteration
    with pytest.raises(ValueError, match="CEBS"):
        search(checkpoint, 10, beam=True, evaluate_centre=True)


def test_restarts_after_stalled_iterations(checkpoint):
    s = search(checkpoint, 10_000, population=4, elites=1, beam=True, restart_timeout=1, sigma=1e-6)
    s.step()
    first = s.population.copy()
    s.step()  # the same programs again: no better elite mean, so a restart draws a fresh population
    assert s.counter == 0 and not np.allclose(s.population, first, atol=1e-3)


def test_state_round_trip_continues_identically(checkpoint):
    a = search(checkpoint, 10_000, population=6, elites=2)
    for _ in range(3):
        a.step()
    b = search(checkpoint, 10_000, population=6, elites=2)
    b.step()
    c = search(checkpoint, 10_000, population=6, elites=2)
    c.load_state_dict(json.loads(json.dumps(b.state_dict())))
    for _ in range(2):
        c.step()
    assert np.allclose(c.population, a.population) and c.best_return == a.best_return
    assert c.evaluator.evaluations == a.evaluator.evaluations


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
