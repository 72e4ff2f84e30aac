"""Weight averaging: checkpoints averaged after a run (`leaps.averaging`) and the moving average that the
training configs keep (Lightning's `EMAWeightAveraging`)."""

from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch

from leaps.averaging import average_weights, main
from leaps.datamodule import ProgramDataModule
from leaps.module import CheckpointMismatchError, LeapsModule

ROOT = Path(__file__).parents[2]


def trained_checkpoint(path: Path, data: Path, seed: int, hidden: int = 32) -> Path:
    pl.seed_everything(seed)
    trainer = pl.Trainer(max_steps=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, default_root_dir=path.parent, limit_val_batches=0)  # fmt: skip
    trainer.fit(LeapsModule(hidden=hidden, behaviour=False), ProgramDataModule(str(data), batch_size=8))
    trainer.save_checkpoint(path)
    return path


def test_average_is_the_mean_of_the_weights_and_loads(tiny_data, tmp_path):
    sources = [trained_checkpoint(tmp_path / f"step{i}.ckpt", tiny_data, seed=i) for i in range(3)]
    states = [torch.load(s, weights_only=False)["state_dict"] for s in sources]
    average_weights(sources, tmp_path / "mean.ckpt")
    saved = torch.load(tmp_path / "mean.ckpt", weights_only=False)
    assert "optimizer_states" not in saved
    assert [s["name"] for s in saved["averaged_from"]] == ["step0.ckpt", "step1.ckpt", "step2.ckpt"]
    loaded = LeapsModule.load_from_checkpoint(tmp_path / "mean.ckpt")
    for name, value in loaded.state_dict().items():
        expected = sum(s[name].double() for s in states) / 3
        assert torch.equal(value, expected.float()), name
    assert not torch.equal(states[0]["model.mu.weight"], states[1]["model.mu.weight"])  # a mean of different weights
    assert loaded.model.decode(torch.randn(2, 32)).shape == (2, 46)


def test_averaging_refuses_checkpoints_of_different_models(tiny_data, tmp_path):
    small = trained_checkpoint(tmp_path / "small.ckpt", tiny_data, seed=0)
    large = trained_checkpoint(tmp_path / "large.ckpt", tiny_data, seed=0, hidden=48)
    with pytest.raises(
        CheckpointMismatchError,
        match=r"large.ckpt does not fit .*small.ckpt: shapes differ: model.condition.gru.bias_hh: \(144,\), expected \(96,\)",
    ):
        average_weights([small, large], tmp_path / "mean.ckpt")
    with pytest.raises(ValueError, match="at least two"):
        average_weights([small], tmp_path / "mean.ckpt")
    assert not (tmp_path / "mean.ckpt").exists()


def test_averaging_command_names_a_missing_checkpoint(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--out", str(tmp_path / "mean.ckpt"), str(tmp_path / "a.ckpt"), str(tmp_path / "b.ckpt")])
    assert exit.value.code == 2
    assert "no such checkpoint" in capsys.readouterr().err and not (tmp_path / "mean.ckpt").exists()


@pytest.mark.parametrize("variant", ["leaps", "leapsp", "leapspr", "leapspl"])
def test_training_configs_checkpoint_a_moving_average_of_the_weights(variant, tiny_data, tmp_path):
    from leaps.cli import main as leaps

    assert leaps(["fit", "--config", str(ROOT / f"configs/leaps/{variant}.yaml"), "--data.data_dir", str(tiny_data),
                  "--data.batch_size", "4", "--data.num_workers", "0", "--model.hidden", "32",
                  "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "3", "--trainer.limit_val_batches", "1",
                  "--trainer.enable_progress_bar", "false", "--trainer.logger.init_args.save_dir", str(tmp_path)]) == 0  # fmt: skip
    (best,) = tmp_path.glob(f"{variant}/version_0/checkpoints/best.ckpt")  # written during training
    saved = torch.load(best, weights_only=False)
    current, average = saved["current_model_state"], saved["state_dict"]  # the model's weights are the average
    assert current.keys() == average.keys()
    assert not torch.equal(current["model.mu.weight"], average["model.mu.weight"])
    module = LeapsModule.load_from_checkpoint(best)
    assert torch.equal(module.state_dict()["model.mu.weight"], average["model.mu.weight"])
