"""The LEAPS stage-1 LightningModule: losses, metrics and the four variants of the paper.

Losses (`reference/leaps.md` 4.5-4.6): program reconstruction L^P (cross-entropy on the positions where the
target or the teacher-forced prediction is still running), KL (mean over dimensions, coefficient 0.1),
latent behaviour reconstruction L^L (the condition policy's cross-entropy on the positions where the target
or the predicted trace is running, targets 5 after the end), and program behaviour reconstruction L^R
(REINFORCE: programs sampled from z are executed against the ground truth on fresh random worlds with the
batched executor; reward = the common prefix of the two state sequences over the longer one, 0.01 for a
program of 4 tokens or fewer, else +0.1; baseline = the batch mean; the z that produced the sample is the
one in the update, not a new sample as in the reference). L^R is switched on once the validation greedy
program accuracy reaches `behaviour_threshold` (0.8 in the reference).

Optimisation (`reference/leaps.md` 4.6): the supervised losses step one Adam (lr 1e-3, step decay per epoch);
L^R steps its own Adam (lr 5e-4, eps 1e-5, linear decay to 0 over 19,531 updates, gradient norm clipped at
0.5), as the reference's separate REINFORCE pass does. The reference runs that pass after each supervised
epoch, about 68 updates of 256 programs; here an update runs on every `behaviour_interval`-th training batch
(2: 70 updates per epoch of the 35,000 training programs), interleaved with the supervised steps. Lightning's
manual optimisation drives both, so `global_step` counts the updates of both optimizers.

Weight averaging, the one addition to the reference recipe: the configs add Lightning's
`EMAWeightAveraging` (decay 0.998 per batch), so validation, checkpoints and exported weights hold an
exponential moving average of the weights; `leaps.averaging` averages saved checkpoints after a run.

Variants (`configs/leaps/*.yaml`): leaps (L^P, L^L with environment steps, L^R), leapsp (L^P only,
condition policy on initial states with coefficient 0), leapspr (L^P and L^R; no condition policy),
leapspl (L^P and L^L, no L^R).

Metrics (TensorBoard, the reference names): {train,val,test}/{total_loss (the supervised losses), rec_loss,
lat_loss, condition_loss, decoder_token_accuracy, decoder_program_accuracy,
decoder_greedy_token_accuracy, decoder_greedy_program_accuracy, condition_action_accuracy,
condition_demo_accuracy, condition_greedy_action_accuracy, condition_greedy_demo_accuracy}; greedy metrics
in validation and test only; train/behaviour_loss and train/behaviour_reward on the REINFORCE updates.
Token and action accuracies are per-sequence shares averaged over sequences, as the reference computes
them (`reconstruction_accuracy`); program and demo accuracies count exact matches.

Reconstructions as text: after every validation (not the sanity check), `val/programs` holds the first
`SHOWN_PROGRAMS` programs of the first validation batch (the validation set is not shuffled, so they are
the same programs every time) beside their greedy decodings from the same latents, as a markdown table, in
the logger's TensorBoard (any logger whose `experiment` has `add_text`) at the global step.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch

from karel.atomic import atomic_path
from karel.dsl import NOOP_ACTION, PAD_ID
from karel.executor import execute_pairs
from leaps.checkpoint import CheckpointError, CheckpointMismatchError, model_settings, read_checkpoint
from leaps.model import (
    ProgramVAE,
    active_until_stop,
    kl_divergence,
    masked_cross_entropy,
    reconstruction_accuracy,
)

VARIANTS = ("leaps", "leapsp", "leapspr", "leapspl")
SHOWN_PROGRAMS = 4  # programs shown as text (`val/programs`) after every validation


def load_model(path: str | Path, device: str = "cpu") -> LeapsModule:
    """The `LeapsModule` of a checkpoint (`read_checkpoint`), its weights checked and loaded, on `device`."""
    checkpoint = read_checkpoint(path)
    try:
        module = LeapsModule(**model_settings(checkpoint))
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"checkpoint {path}: its hyper_parameters do not fit this model ({error})") from None
    module.on_load_checkpoint(checkpoint)  # names and shapes checked
    module.load_state_dict(checkpoint["state_dict"])
    return module.to(device)


class LeapsModule(pl.LightningModule):
    def __init__(self, hidden: int = 256, max_length: int = 45, lr: float = 1e-3, latent_loss_coef: float = 0.1,
                 condition_loss_coef: float = 1.0, condition: bool = True, observations: str = "environment",
                 behaviour: bool = True, behaviour_threshold: float = 0.8, behaviour_worlds: int = 10,
                 behaviour_wall_prob: float = 0.25, entropy_coef: float = 0.1, behaviour_lr: float = 5e-4,
                 behaviour_clip: float = 0.5, behaviour_interval: int = 2, behaviour_decay_updates: int = 19531,
                 lr_step_epochs: int = 10, lr_gamma: float = 0.95, seed: int = 123):  # fmt: skip
        super().__init__()
        if observations not in ("environment", "initial_state"):
            raise ValueError(f"observations must be 'environment' or 'initial_state', got {observations!r}")
        if behaviour_interval < 1:
            raise ValueError(f"behaviour_interval must be at least 1 (every n-th batch), got {behaviour_interval}")
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.model = ProgramVAE(hidden, max_length)
        self.behaviour_active = False
        self.rng = np.random.default_rng(seed)
        self._greedy_tokens: torch.Tensor | None = None  # the last greedy decoding [B, L + 1]
        self._shown: tuple[list, list] | None = None  # (targets, decodings) of the first validation batch

    # -------------------------------------------------------------------------------- losses and metrics

    def _forward(self, batch: dict, greedy: bool) -> tuple[torch.Tensor, dict]:
        hp = self.hparams
        program, mask = batch["program"], batch["program_mask"]
        mu, log_sigma = self.model.encode(program, mask)
        z = self.model.sample(mu, log_sigma)
        logits = self.model.decode_teacher(z, program)  # [B, L, V]
        targets = program[:, 1 : hp.max_length + 1]
        predicted = logits.argmax(-1)
        live = active_until_stop(targets, PAD_ID) | active_until_stop(predicted, PAD_ID)
        rec_loss = masked_cross_entropy(logits, targets, live)
        lat_loss = kl_divergence(mu, log_sigma)
        total = rec_loss + hp.latent_loss_coef * lat_loss
        token_accuracy, program_accuracy = reconstruction_accuracy(predicted, targets, PAD_ID)
        logs = {"rec_loss": rec_loss, "lat_loss": lat_loss,
                "decoder_token_accuracy": token_accuracy, "decoder_program_accuracy": program_accuracy}  # fmt: skip
        if hp.condition:
            a_h = batch["a_h"]  # [B, D, T]
            cond_logits, cond_pred = self.model.condition(z, batch["s_h"], a_h.shape[-1], a_h, hp.observations)
            a_live = active_until_stop(a_h, NOOP_ACTION)
            cond_loss = masked_cross_entropy(cond_logits, a_h, a_live | active_until_stop(cond_pred, NOOP_ACTION))
            total = total + hp.condition_loss_coef * cond_loss
            action_accuracy, demo_accuracy = reconstruction_accuracy(cond_pred, a_h, NOOP_ACTION)
            logs |= {"condition_loss": cond_loss, "condition_action_accuracy": action_accuracy,
                     "condition_demo_accuracy": demo_accuracy}  # fmt: skip
        if greedy:
            logs |= self._greedy_metrics(z, batch)
        return total, logs

    @torch.no_grad()
    def _greedy_metrics(self, z: torch.Tensor, batch: dict) -> dict:
        hp = self.hparams
        tokens = self.model.decode(z)
        self._greedy_tokens = tokens
        targets = batch["program"][:, 1 : hp.max_length + 1]
        token_accuracy, program_accuracy = reconstruction_accuracy(tokens[:, 1:], targets, PAD_ID)
        logs = {"decoder_greedy_token_accuracy": token_accuracy, "decoder_greedy_program_accuracy": program_accuracy}
        if hp.condition:
            a_h = batch["a_h"]
            _, actions = self.model.condition(z, batch["s_h"], a_h.shape[-1], None, hp.observations)
            action_accuracy, demo_accuracy = reconstruction_accuracy(actions, a_h, NOOP_ACTION)
            logs |= {"condition_greedy_action_accuracy": action_accuracy,
                     "condition_greedy_demo_accuracy": demo_accuracy}  # fmt: skip
        return logs

    def behaviour_loss(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """L^R on this batch's programs: returns (loss, mean reward)."""
        from karel.parser import parse_ids
        from leaps.dataset import MAX_CALLS, DatasetConfig, random_worlds

        hp = self.hparams
        program, mask = batch["program"], batch["program_mask"]
        mu, log_sigma = self.model.encode(program, mask)
        z = self.model.sample(mu, log_sigma)
        with torch.no_grad():
            tokens = self.model.decode(z.detach(), sample=True)
        log_prob, entropy = self.model.log_prob_of(z, tokens)  # the z that produced the sample
        b, k = len(tokens), hp.behaviour_worlds
        ground = [parse_ids(row) for row in program.tolist()]  # reading stops at the first PAD
        sampled = [parse_ids(row) for row in tokens.tolist()]
        worlds = random_worlds(self.rng, b * k, DatasetConfig(wall_prob=hp.behaviour_wall_prob))
        owner = np.repeat(np.arange(b), k)
        steps = 100
        traces = [execute_pairs(programs, worlds, owner, max_calls=MAX_CALLS, record_actions=steps, record_states=True)
                  for programs in (ground, sampled)]  # fmt: skip
        reward = torch.as_tensor(prefix_reward(*traces, steps), dtype=torch.float32).view(b, k).mean(1)
        short = torch.tensor([len(p.tokens()) <= 4 for p in sampled])
        reward = torch.where(short, 0.01, reward + 0.1).to(z.device)
        advantage = reward - reward.mean()
        loss = -(advantage * log_prob).mean() - hp.entropy_coef * entropy.mean()
        loss = loss + hp.latent_loss_coef * kl_divergence(mu, log_sigma)
        return loss, reward.mean()

    # ---------------------------------------------------------------------------------------- lightning

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        """One supervised update; on every `behaviour_interval`-th batch once L^R is on, one REINFORCE update
        with the second optimizer. Returns the supervised loss."""
        hp = self.hparams
        optimizers = self.optimizers()
        supervised = optimizers[0] if hp.behaviour else optimizers
        loss, logs = self._forward(batch, greedy=False)
        supervised.zero_grad()
        self.manual_backward(loss)
        supervised.step()
        if hp.behaviour and self.behaviour_active and batch_idx % hp.behaviour_interval == 0:
            reinforce = optimizers[1]
            reinforce.zero_grad()
            behaviour, reward = self.behaviour_loss(batch)
            self.manual_backward(behaviour)
            self.clip_gradients(reinforce, gradient_clip_val=hp.behaviour_clip, gradient_clip_algorithm="norm")
            reinforce.step()
            self.lr_schedulers()[1].step()
            logs |= {"behaviour_loss": behaviour.detach(), "behaviour_reward": reward}
        self._log("train", loss, logs, len(batch["program"]))
        return loss

    def on_train_epoch_end(self) -> None:
        schedulers = self.lr_schedulers()
        (schedulers[0] if self.hparams.behaviour else schedulers).step()  # the supervised step decay, per epoch

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        loss, logs = self._forward(batch, greedy=True)
        self._log("val", loss, logs, len(batch["program"]))
        if batch_idx == 0:
            self._shown = (batch["program"][:SHOWN_PROGRAMS].tolist(), self._greedy_tokens[:SHOWN_PROGRAMS].tolist())

    def test_step(self, batch: dict, batch_idx: int) -> None:
        loss, logs = self._forward(batch, greedy=True)
        self._log("test", loss, logs, len(batch["program"]))

    def on_validation_epoch_end(self) -> None:
        accuracy = self.trainer.callback_metrics.get("val/decoder_greedy_program_accuracy")
        if accuracy is not None and float(accuracy) >= self.hparams.behaviour_threshold:
            self.behaviour_active = True
        experiment = getattr(self.logger, "experiment", None) if self.logger is not None else None
        if self._shown is not None and not self.trainer.sanity_checking and hasattr(experiment, "add_text"):
            experiment.add_text("val/programs", reconstruction_table(*self._shown), self.global_step)
        self._shown = None

    def _log(self, stage: str, loss: torch.Tensor, logs: dict, batch_size: int) -> None:
        self.log(f"{stage}/total_loss", loss, prog_bar=True, batch_size=batch_size)
        for key, value in logs.items():
            self.log(f"{stage}/{key}", value, prog_bar=key == "decoder_greedy_program_accuracy",
                     batch_size=batch_size)  # fmt: skip

    def configure_optimizers(self):
        hp = self.hparams
        supervised = torch.optim.Adam(self.parameters(), lr=hp.lr)
        step_decay = torch.optim.lr_scheduler.StepLR(supervised, hp.lr_step_epochs, hp.lr_gamma)
        if not hp.behaviour:
            return {"optimizer": supervised, "lr_scheduler": step_decay}
        reinforce = torch.optim.Adam(self.parameters(), lr=hp.behaviour_lr, eps=1e-5)
        remaining = lambda updates: max(0.0, 1.0 - updates / hp.behaviour_decay_updates)
        linear_decay = torch.optim.lr_scheduler.LambdaLR(reinforce, remaining)
        return [supervised, reinforce], [step_decay, linear_decay]

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["behaviour_active"] = self.behaviour_active

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        mismatch = state_mismatch(self.state_dict(), checkpoint["state_dict"])
        if mismatch:
            raise CheckpointMismatchError(f"the checkpoint does not fit this model: {mismatch} "
                                          "(check hidden size and variant)")  # fmt: skip
        self.behaviour_active = checkpoint.get("behaviour_active", False)


def token_text(ids: list[int]) -> str:
    """LEAPS token ids as DSL text, up to the first pad id (a decoding is shown as it is, parsed or not)."""
    from karel.dsl import TOKENS

    end = next((i for i, t in enumerate(ids) if t >= PAD_ID), len(ids))
    return " ".join(TOKENS[t] for t in ids[:end])


def reconstruction_table(targets: list[list[int]], decoded: list[list[int]]) -> str:
    """A markdown table of target programs (token ids) beside their decodings, and whether each matches."""
    rows = ["| # | target | decoded | match |", "|---|---|---|---|"]
    for i, (target, tokens) in enumerate(zip(targets, decoded)):
        a, b = token_text(target), token_text(tokens)
        rows.append(f"| {i} | `{a}` | `{b}` | {'yes' if a == b else 'no'} |")
    return "\n".join(rows)


def state_mismatch(expected: dict, found: dict) -> str:
    """How the parameters `found` (a state dict) differ from `expected` in names and shapes ("" if not):
    the missing and unexpected names and the differing shapes, five of each at most."""
    want = {k: tuple(v.shape) for k, v in expected.items()}
    got = {k: tuple(v.shape) for k, v in found.items()}
    missing, unexpected = sorted(want.keys() - got.keys()), sorted(got.keys() - want.keys())
    shapes = sorted(f"{k}: {got[k]}, expected {want[k]}" for k in want.keys() & got.keys() if want[k] != got[k])
    parts = [f"missing {', '.join(missing[:5])}" if missing else "",
             f"unexpected {', '.join(unexpected[:5])}" if unexpected else "",
             f"shapes differ: {'; '.join(shapes[:5])}" if shapes else ""]  # fmt: skip
    return "; ".join(part for part in parts if part)


def prefix_reward(ground, sampled, steps: int) -> np.ndarray:
    """Per world: the common prefix of the two state sequences after the shared initial state, over the
    longer sequence minus one (1 when neither program acts). `ground` and `sampled` are `execute_pairs`
    traces with `steps` recorded actions."""
    n = len(ground.num_actions)

    g, s = ground.states, sampled.states  # worlds [N*(T+1)]
    same = (g.markers == s.markers).flatten(1).all(1) & (g.row == s.row) & (g.col == s.col)
    same = (same & (g.direction == s.direction)).view(n, steps + 1).numpy()  # [N, T+1] equal states
    len_g = ground.num_actions.clamp(max=steps).numpy() + 1
    len_s = sampled.num_actions.clamp(max=steps).numpy() + 1
    t = np.arange(1, steps + 1)[None]
    match = same[:, 1:] & (t < np.minimum(len_g, len_s)[:, None])
    prefix = np.argmin(np.concatenate([match, np.zeros((n, 1), bool)], 1), axis=1)  # leading matches
    longest = np.maximum(len_g, len_s)
    return np.where(longest == 1, 1.0, prefix / np.maximum(longest - 1, 1))


CHECKPOINT_INFO = ("hyper_parameters", "pytorch-lightning_version", "epoch", "global_step", "behaviour_active")
"""What exported weights keep of a training checkpoint besides the state dict."""


def save_atomically(checkpoint: dict, target: str | Path) -> None:
    """`torch.save` to a temporary file beside `target`, then rename it: no half-written checkpoint."""
    with atomic_path(target) as tmp:
        torch.save(checkpoint, tmp)


def export_weights(source: str, target: str) -> None:
    """Write `source`'s model weights, hyperparameters and progress (no optimizer state) to `target`, a
    checkpoint that `LeapsModule.load_from_checkpoint` and `leaps test --ckpt_path` read."""
    checkpoint = read_checkpoint(source)
    kept = {k: checkpoint[k] for k in ("state_dict", *CHECKPOINT_INFO) if k in checkpoint}
    save_atomically(kept, target)
