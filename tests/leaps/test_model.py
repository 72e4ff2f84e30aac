"""The program VAE: the grammar automaton, decoding that always parses, every variant learning on a tiny
dataset with a real Lightning trainer, checkpoints."""

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from karel.dsl import PAD_ID, TOKEN_ID
from karel.parser import parse_ids
from karel.program import to_ids
from karel.sampler import sample_leaps_program
from leaps.datamodule import ProgramDataModule
from leaps.dataset import DatasetConfig
from leaps.grammar import Grammar
from leaps.model import reconstruction_accuracy
from leaps.module import CheckpointError, CheckpointMismatchError, LeapsModule, prefix_reward, read_checkpoint

VARIANTS = {
    "leaps": {"condition": True, "observations": "environment", "condition_loss_coef": 1.0, "behaviour": True},
    "leapsp": {"condition": True, "observations": "initial_state", "condition_loss_coef": 0.0, "behaviour": False},
    "leapspr": {"condition": False, "observations": "initial_state", "condition_loss_coef": 0.0, "behaviour": True},
    "leapspl": {"condition": True, "observations": "environment", "condition_loss_coef": 1.0, "behaviour": False},
}


def test_grammar_allows_every_prefix_of_10000_sampled_programs():
    rng = np.random.default_rng(0)
    programs = [ids for ids in (to_ids(sample_leaps_program(rng)) for _ in range(10_500)) if len(ids) <= 45][:10_000]
    assert len(programs) == 10_000
    tokens = torch.full((len(programs), 46), PAD_ID)
    for i, ids in enumerate(programs):
        tokens[i, : len(ids)] = torch.tensor(ids)
    grammar = Grammar()
    g = grammar.initial(len(programs))
    for t in range(46):
        allowed = grammar.mask(g).gather(1, tokens[:, t : t + 1]).squeeze(1)
        assert allowed.all(), [programs[i] for i in (~allowed).nonzero().flatten()[:3].tolist()]
        g = grammar.step(g, tokens[:, t])
    assert torch.isin(g.state, torch.tensor([grammar.names["end"], grammar.names["pad"]])).all()


def test_grammar_rejects_what_the_parser_rejects():
    grammar = Grammar()
    g = grammar.initial(1)
    for token in to_ids(parse_ids([0, 1, 2, 4, 3]))[:3]:  # DEF run m(
        g = grammar.step(g, torch.tensor([token]))
    assert not grammar.mask(g)[0, 3]  # an empty body cannot close
    assert grammar.mask(g)[0, 4]  # an action can start it


@pytest.mark.parametrize("sample", [False, True])
def test_every_decoded_program_parses(sample):
    torch.manual_seed(0)
    model = LeapsModule(hidden=32).model
    tokens = model.decode(torch.randn(256, 32) * 3, sample=sample)
    assert tokens.shape == (256, 46) and (tokens[:, 0] == 0).all()
    for row in tokens.tolist():
        end = row.index(PAD_ID) if PAD_ID in row else len(row)
        assert end <= 45 and set(row[end:]) <= {PAD_ID}  # at most 45 tokens (DEF included), then only padding
        parse_ids(row[:end])


class LossHistory(pl.Callback):
    def __init__(self):
        self.losses = []

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.losses.append(float(outputs["loss"]))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_each_variant_learns_on_a_tiny_dataset(variant, tiny_data, tmp_path):
    pl.seed_everything(0)
    module = LeapsModule(hidden=32, lr=3e-3, behaviour_threshold=0.0, behaviour_worlds=2, **VARIANTS[variant])
    module.behaviour_active = VARIANTS[variant]["behaviour"]
    history = LossHistory()
    trainer = pl.Trainer(max_steps=25, overfit_batches=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, callbacks=[history],
                         default_root_dir=tmp_path, num_sanity_val_steps=0)  # fmt: skip
    trainer.fit(module, ProgramDataModule(str(tiny_data), batch_size=8))
    first, last = np.mean(history.losses[:3]), np.mean(history.losses[-3:])
    assert last < first, (variant, history.losses)


def test_reinforce_steps_its_own_clipped_optimizer_every_interval(tiny_data, tmp_path):
    pl.seed_everything(0)
    module = LeapsModule(hidden=32, behaviour_worlds=2, behaviour_interval=2, behaviour_clip=1e-3,
                         **VARIANTS["leapspr"])  # fmt: skip
    module.behaviour_active = True
    norms = []  # (learning rate, gradient norm) before each optimizer step

    def record(optimizer):
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        norms.append((optimizer.param_groups[0]["lr"], torch.nn.utils.get_total_norm(grads).item()))

    module.on_before_optimizer_step = record
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=5, limit_val_batches=0, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         default_root_dir=tmp_path)  # fmt: skip
    trainer.fit(module, ProgramDataModule(str(tiny_data), batch_size=4))
    supervised, reinforce = trainer.optimizers
    assert [group["lr"] for group in reinforce.param_groups] == [pytest.approx(5e-4 * (1 - 3 / 19531))]
    steps = [next(iter(opt.state.values()))["step"].item() for opt in (supervised, reinforce)]
    assert steps == [5, 3]  # batches 0, 2 and 4 also take a REINFORCE update
    assert trainer.global_step == 8  # Lightning counts the updates of both optimizers
    reinforce_norms = [norm for lr, norm in norms if lr < 1e-3]
    assert len(reinforce_norms) == 3 and max(reinforce_norms) <= 1e-3 * 1.001  # clipped before the step


def full_rollout(policy, z, s0, teacher, observations):
    """The condition policy's teacher-forced rollout written out plainly: every demonstration runs every step."""
    from karel.dsl import NOOP_ACTION
    from karel.semantics import step
    from karel.world import Worlds

    b, d, steps = teacher.shape
    flat_z = z.repeat_interleave(d, 0)
    worlds = Worlds.from_onehot(s0.flatten(0, 1))
    hidden, previous, logits = flat_z, torch.full((b * d,), NOOP_ACTION), []
    for t in range(steps):
        encoded = policy.state_encoder(worlds.to_onehot().float())
        hidden = policy.gru(torch.cat([flat_z, encoded, policy.action_embedding(previous)], 1), hidden)
        logits.append(policy.head(hidden))
        previous = teacher.flatten(0, 1)[:, t]
        if observations == "environment":
            worlds, _ = step(worlds, torch.where(previous == NOOP_ACTION, -1, previous))
    logits = torch.stack(logits, 1).view(b, d, steps, -1)
    return logits, logits.argmax(-1)


@pytest.mark.parametrize("observations", ["environment", "initial_state"])
def test_condition_rollouts_end_once_teacher_and_prediction_have_stopped(tiny_data, observations):
    from karel.dsl import NOOP_ACTION
    from leaps.model import active_until_stop, masked_cross_entropy

    torch.manual_seed(0)
    policy = LeapsModule(hidden=32).model.condition
    with torch.no_grad():
        policy.head[-1].bias[NOOP_ACTION] += 0.5  # some predictions stop early, some late
    data = ProgramDataModule(str(tiny_data), batch_size=16, num_workers=0)
    data.setup("fit")
    batch = next(iter(data.train_dataloader()))
    s0, teacher = batch["s_h"], batch["a_h"]
    z = torch.randn(16, 32)
    losses, grads = [], []
    for rollout in (full_rollout, lambda p, z, s0, a, observations: p(z, s0, a.shape[-1], a, observations)):
        policy.zero_grad()
        logits, predicted = rollout(policy, z, s0, teacher, observations)
        live = active_until_stop(teacher, NOOP_ACTION) | active_until_stop(predicted, NOOP_ACTION)
        loss = masked_cross_entropy(logits, teacher, live)
        loss.backward()
        losses.append((logits, predicted, live, loss))
        grads.append([p.grad.clone() for p in policy.parameters()])
    (full, full_predicted, full_live, full_loss), (short, predicted, live, loss) = losses
    assert 0.1 < live.float().mean() < 0.9  # ended rollouts are part of the check
    assert torch.equal(live, full_live) and torch.equal(predicted[live], full_predicted[live])
    assert torch.allclose(short[live], full[live], atol=1e-6) and torch.allclose(loss, full_loss, atol=1e-6)
    assert (short[~live] == 0).all() and (predicted[~live] == NOOP_ACTION).all()
    for a, b in zip(*grads):
        assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("size", [(4, 4), (6, 6), (5, 9)])
def test_state_pooling_equals_adaptive_average_pooling(size):
    from leaps.model import PoolTo

    maps = torch.randn(3, 32, *size, requires_grad=True)
    pooled = PoolTo(4)(maps)
    expected = torch.nn.AdaptiveAvgPool2d(4)(maps)
    assert pooled.shape == (3, 32, 4, 4) and torch.equal(pooled, expected)
    (grad,) = torch.autograd.grad(pooled.square().sum(), maps)
    assert torch.equal(grad, torch.autograd.grad(expected.square().sum(), maps)[0])


@pytest.mark.parametrize("grid", [(8, 8), (12, 12), (10, 14)])
def test_state_encoder_takes_any_grid_size(grid):
    from leaps.model import ConditionPolicy

    encoder = ConditionPolicy(hidden=32, latent=32).state_encoder
    assert encoder(torch.rand(5, 16, *grid)).shape == (5, 32)


def test_checkpoint_round_trip_and_mismatch(tiny_data, tmp_path):
    pl.seed_everything(1)
    module = LeapsModule(hidden=32, behaviour=False)
    trainer = pl.Trainer(max_steps=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, default_root_dir=tmp_path, limit_val_batches=0)  # fmt: skip
    trainer.fit(module, ProgramDataModule(str(tiny_data), batch_size=8))
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path, weights_only=True)
    loaded = LeapsModule.load_from_checkpoint(path)
    z = torch.randn(4, 32)
    assert torch.equal(module.model.decode(z), loaded.model.decode(z))
    for a, b in zip(module.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(CheckpointMismatchError, match="shapes differ"):
        LeapsModule.load_from_checkpoint(path, hidden=48)


def test_prefix_reward():
    from karel.executor import execute_pairs
    from karel.parser import parse
    from leaps.dataset import random_worlds

    worlds = random_worlds(np.random.default_rng(0), 6, DatasetConfig(wall_prob=0.0))
    same = [parse("DEF run m( turnLeft turnLeft turnLeft m)")] * 2
    other = [parse("DEF run m( turnLeft turnRight turnRight m)"), parse("DEF run m( turnLeft m)")]
    owner = np.array([0, 0, 0, 1, 1, 1])

    def run(programs):
        return execute_pairs(programs, worlds, owner, record_actions=5, record_states=True)

    reward = prefix_reward(run(same), run(other), 5)
    assert reward.tolist() == [1 / 3] * 3 + [1 / 3] * 3  # one matching step of three
    assert prefix_reward(run(same), run(same), 5).tolist() == [1.0] * 6
    put, pick = parse("DEF run m( putMarker m)"), parse("DEF run m( pickMarker m)")  # no markers: pick is a no-op
    assert prefix_reward(run([put, put]), run([pick, pick]), 5).tolist() == [0.0] * 6  # same pose, other markers


def test_reconstruction_accuracy_averages_per_sequence_over_target_and_prediction():
    stop = 5
    targets = torch.tensor([[1, 2, 5, 5], [3, 5, 5, 5], [4, 4, 4, 4], [1, 2, 3, 5]])
    predicted = torch.tensor([
        [1, 0, 5, 0],  # scored: the target's 2 actions and the prediction's stop; 2 of 3 match
        [3, 4, 4, 5],  # runs past the target's end up to its own stop: 2 of 4
        [4, 4, 4, 4],  # exact, no stop within the window: 4 of 4
        [1, 5, 0, 0],  # stops early: the target's 3 actions are scored, 1 of 3
    ])  # fmt: skip
    element, sequence = reconstruction_accuracy(predicted, targets, stop)
    assert element.item() == pytest.approx((2 / 3 + 2 / 4 + 1 + 1 / 3) / 4)
    assert sequence.item() == 0.25
    assert reconstruction_accuracy(targets, targets, stop)[1].item() == 1.0
    ends_late = torch.tensor([[1, 2, 0, 5]])  # the target's actions, then one action too many
    assert reconstruction_accuracy(ends_late, targets[:1], stop)[1].item() == 0.0


def test_leaps_test_command_reports_the_shipped_checkpoint_metrics(tiny_data, tmp_path, monkeypatch, capsys):
    from pathlib import Path

    from leaps.cli import main

    root = Path(__file__).parents[2]
    monkeypatch.chdir(tmp_path)
    assert main(["test", "--config", str(root / "configs/leaps/leaps.yaml"), "--ckpt_path", str(root / "weights/leaps.ckpt"),
                 "--data.data_dir", str(tiny_data), "--data.num_workers", "0", "--data.batch_size", "8",
                 "--trainer.logger", "false", "--trainer.limit_test_batches", "1",
                 "--trainer.enable_progress_bar", "false"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "test/decoder_greedy_program_accuracy" in out and "test/condition_greedy_action_accuracy" in out
    assert not (tmp_path / "config.yaml").exists()  # configs are saved beside training runs only


ROOT = __import__("pathlib").Path(__file__).parents[2]
SHIPPED = ROOT / "weights" / "leaps.ckpt"


def corrupt_checkpoint(kind: str, folder) -> tuple[str, str]:
    """A bad checkpoint file of one kind and the start of the one-line error it must give."""
    path = folder / f"{kind}.ckpt"
    if kind == "random_bytes":
        path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
        return str(path), f"checkpoint {path} is not a readable PyTorch checkpoint: corrupt, truncated or another"
    if kind == "truncated":
        path.write_bytes(SHIPPED.read_bytes()[:100_000])
        return str(path), f"checkpoint {path} is not a readable PyTorch checkpoint: corrupt, truncated or another"
    if kind == "empty":
        path.write_bytes(b"")
        return str(path), f"checkpoint {path} is an empty file"
    if kind == "foreign_dict":
        torch.save({"weights": torch.zeros(2)}, path)
        return str(path), f"checkpoint {path} is not a PyTorch Lightning checkpoint (it holds no state_dict)"
    if kind == "folder":
        path.mkdir()
        return str(path), f"checkpoint {path} is a folder; give the .ckpt file (e.g. {path}/last.ckpt)"
    raise ValueError(kind)


CORRUPT = ("random_bytes", "truncated", "empty", "foreign_dict", "folder")


@pytest.mark.parametrize("kind", CORRUPT)
def test_read_checkpoint_gives_one_line_for_every_bad_file(kind, tmp_path):
    path, message = corrupt_checkpoint(kind, tmp_path)
    with pytest.raises(CheckpointError) as caught:
        read_checkpoint(path)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
    assert "weights_only" not in str(caught.value)


def test_read_checkpoint_accepts_the_shipped_weights_and_refuses_them_for_resuming():
    checkpoint = read_checkpoint(SHIPPED)
    assert checkpoint["hyper_parameters"]["hidden"] == 256 and "model.mu.weight" in checkpoint["state_dict"]
    with pytest.raises(CheckpointError, match="holds model weights only .*: it cannot resume training"):
        read_checkpoint(SHIPPED, resume=True)


def leaps_cli(*args: str) -> int:
    from leaps.cli import main

    return main([*args, "--trainer.logger", "false", "--trainer.enable_progress_bar", "false"])


@pytest.mark.parametrize("command", ["fit", "test"])
@pytest.mark.parametrize("kind", CORRUPT)
def test_leaps_commands_answer_a_bad_checkpoint_with_one_line(command, kind, tiny_data, tmp_path, capsys):
    path, message = corrupt_checkpoint(kind, tmp_path)
    assert leaps_cli(command, "--ckpt_path", path, "--data.data_dir", str(tiny_data)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"leaps: error: {message}") and err.count("\n") == 1


def test_leaps_fit_refuses_to_resume_from_weights_only(tiny_data, capsys):
    assert leaps_cli("fit", "--ckpt_path", str(SHIPPED), "--data.data_dir", str(tiny_data)) == 2
    assert capsys.readouterr().err == (f"leaps: error: checkpoint {SHIPPED} holds model weights only (no "
                                       "optimizer_states, loops): it cannot resume training; use it with `leaps "
                                       "test` or `validate`, or start a new run\n")  # fmt: skip


@pytest.mark.parametrize(
    "settings, listed",
    [
        (["--config", str(ROOT / "configs/leaps/leapsp.yaml")],
         ("behaviour (given False, checkpoint True), condition_loss_coef (given 0.0, checkpoint 1.0), observations "
          "(given 'initial_state', checkpoint 'environment')")),
        (["--config", str(ROOT / "configs/leaps/leaps.yaml"), "--model.hidden", "128"],
         "hidden (given 128, checkpoint 256)"),
        (["--model.lr", "0.001", "--model.seed", "7"], "seed (given 7, checkpoint 123)"),  # lr is the same
    ],
)  # fmt: skip
def test_leaps_test_refuses_model_settings_that_differ_from_the_checkpoint(settings, listed, tiny_data, capsys):
    assert leaps_cli("test", *settings, "--ckpt_path", str(SHIPPED), "--data.data_dir", str(tiny_data)) == 2
    assert capsys.readouterr().err == (f"leaps: error: the model settings differ from the hyper-parameters of "
                                       f"{SHIPPED}: {listed}; drop them (the checkpoint's apply) or use a checkpoint "
                                       "trained with them\n")  # fmt: skip


def test_leaps_reports_a_dataset_error_of_a_worker_in_one_line():
    from leaps.cli import _last_line
    from leaps.datamodule import DatasetError

    wrapped = DatasetError("Caught DatasetError in DataLoader worker process 0.\nOriginal Traceback (most recent "
                           "call last):\n  File \"x.py\", line 1\nleaps.datamodule.DatasetError: group 'g': missing "
                           "'s_h'\n")  # fmt: skip
    assert _last_line(wrapped) == "group 'g': missing 's_h'"
    assert _last_line(DatasetError("d: no such folder")) == "d: no such folder"


def test_leaps_test_on_a_missing_dataset_is_one_line(tmp_path, capsys):
    assert leaps_cli("test", "--ckpt_path", str(SHIPPED), "--data.data_dir", str(tmp_path / "none")) == 2
    assert capsys.readouterr().err == f"leaps: error: {tmp_path / 'none'}: no such folder\n"


def test_leaps_fit_resumes_from_a_training_checkpoint_and_refuses_other_settings(tiny_data, tmp_path, capsys):
    common = ["--config", str(ROOT / "configs/leaps/leapsp.yaml"), "--data.data_dir", str(tiny_data),
              "--data.batch_size", "8", "--data.num_workers", "0", "--model.hidden", "32",
              "--trainer.limit_val_batches", "1", "--trainer.enable_progress_bar", "false",
              "--trainer.default_root_dir", str(tmp_path), "--trainer.callbacks+=ModelCheckpoint",
              "--trainer.callbacks.dirpath", str(tmp_path / "ckpt"), "--trainer.callbacks.save_last", "true"]  # fmt: skip
    from leaps.cli import main

    assert main(["fit", *common, "--trainer.max_steps", "1", "--trainer.logger", "false"]) == 0
    last = tmp_path / "ckpt" / "last.ckpt"
    assert read_checkpoint(last, resume=True)["global_step"] == 1  # a training checkpoint passes the check
    assert main(["fit", *common, "--trainer.max_steps", "2", "--trainer.logger", "false", "--ckpt_path",
                 str(last)]) == 0  # fmt: skip
    assert torch.load(last, weights_only=True)["global_step"] == 2
    capsys.readouterr()
    assert main(["fit", *common, "--model.hidden", "64", "--trainer.logger", "false", "--ckpt_path", str(last)]) == 2
    assert "hidden (given 64, checkpoint 32)" in capsys.readouterr().err


def test_validation_writes_decoded_programs_beside_their_targets_into_tensorboard(tiny_data, tmp_path):
    from pytorch_lightning.loggers import TensorBoardLogger
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from leaps.module import SHOWN_PROGRAMS, token_text

    pl.seed_everything(0)
    module = LeapsModule(hidden=32, condition=False, behaviour=False)
    logger = TensorBoardLogger(str(tmp_path), name="tb", version=0)
    trainer = pl.Trainer(max_steps=4, val_check_interval=2, limit_val_batches=1, logger=logger,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         default_root_dir=tmp_path, num_sanity_val_steps=1)  # fmt: skip
    data = ProgramDataModule(str(tiny_data), batch_size=8)
    trainer.fit(module, data)
    logger.experiment.flush()
    [events_file] = (tmp_path / "tb" / "version_0").glob("events.out.tfevents.*")
    events = EventAccumulator(str(events_file), size_guidance={"tensors": 0})
    events.Reload()
    shown = events.Tensors("val/programs/text_summary")
    assert [e.step for e in shown] == [2, 4]  # every validation, not the sanity check
    first_batch = next(iter(data.val_dataloader()))["program"][:SHOWN_PROGRAMS].tolist()
    targets = [token_text(row) for row in first_batch]
    for event in shown:
        rows = event.tensor_proto.string_val[0].decode().splitlines()
        assert rows[0] == "| # | target | decoded | match |" and len(rows) == 2 + SHOWN_PROGRAMS
        for i, (row, target) in enumerate(zip(rows[2:], targets)):
            number, shown_target, decoded, match = (cell.strip().strip("`") for cell in row.strip("|").split("|"))
            assert (number, shown_target) == (str(i), target) and target.startswith("DEF run m(")
            assert match == ("yes" if decoded == target else "no")
            parse_ids([TOKEN_ID[t] for t in decoded.split()])  # greedy decodings always parse
