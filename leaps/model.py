"""The LEAPS program VAE (`reference/leaps.md` 4): encoder, latent, syntax-masked decoder, condition policy.

Shapes: B programs, L = max_length (45) decoder steps, V = 51 tokens, Z = H = hidden (256), D = 10
demonstrations, T recorded actions per demonstration, A = 6 actions (5 = no-op / stop).

* Encoder: token embedding (V -> V), GRU (V -> H) over the real tokens; mu and log-sigma heads (H -> Z).
* Decoder: GRU whose first hidden state is z and whose input at every step is [token embedding ; z];
  logits from an MLP over [GRU output ; token embedding ; z]; the grammar automaton (`leaps.grammar`)
  masks every step, so decoded programs always parse. Step i reads token i and predicts token i + 1.
* Condition policy: pi(a_t | z, s_t, a_{t-1}), a convolutional state encoder for any grid size (two 3x3
  convolutions, adaptive pooling to 4 x 4, a linear layer), an action embedding, a GRU started at z and an
  MLP head. Next states come from stepping the worlds with the batched `karel.semantics.step` on the
  model's device ("environment"), or every step sees the initial state ("initial_state"). A teacher-forced
  rollout ends once the demonstration and the prediction have both stopped: most demonstrations are a few
  actions long, so this skips about two thirds of the steps of a trained policy, which counted nowhere.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from karel.dsl import NOOP_ACTION, PAD_ID, VOCAB_SIZE
from karel.semantics import step as step_worlds
from karel.world import Worlds
from leaps.grammar import Grammar

NUM_ACTIONS = 6
DEF_ID = 0
NEG = -1e9  # masked logits


def _init_gru(gru: nn.Module) -> None:
    for name, param in gru.named_parameters():
        if "weight" in name:
            nn.init.orthogonal_(param)
        else:
            nn.init.zeros_(param)


class PoolTo(nn.AdaptiveAvgPool2d):
    """Adaptive average pooling to `output_size` x `output_size` that passes a map of that size through
    unchanged: an 8 x 8 grid is already 4 x 4 after the two convolutions, and PyTorch's pooling spent about
    3% of a LEAPS training batch (forward and backward, in a profile) on that identity."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = self.output_size
        return x if x.shape[-2:] == (size, size) else super().forward(x)


class ConditionPolicy(nn.Module):
    def __init__(self, hidden: int, latent: int):
        super().__init__()
        self.state_encoder = nn.Sequential(
            nn.Conv2d(16, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), PoolTo(4),
            nn.Flatten(), nn.Linear(512, hidden), nn.ReLU(),
        )  # fmt: skip
        self.action_embedding = nn.Embedding(NUM_ACTIONS, NUM_ACTIONS)
        self.gru = nn.GRUCell(latent + hidden + NUM_ACTIONS, hidden)
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                  nn.Linear(hidden, NUM_ACTIONS))  # fmt: skip
        _init_gru(self.gru)

    def forward(self, z: torch.Tensor, s0: torch.Tensor, steps: int, teacher: torch.Tensor | None,
                observations: str) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        """Roll out `steps` actions for each demonstration.

        z [B, Z]; s0 [B, D, 16, H, W] initial states; teacher [B, D, T] actions fed back instead of the
        predictions (teacher forcing), or None. Returns logits [B, D, T, A] and greedy actions [B, D, T].

        With a teacher, a demonstration's rollout ends once both the teacher and the prediction have
        stopped (each has emitted the no-op): no later position counts in the losses or the metrics, so
        none is computed; they read logits 0 and the no-op. Without a teacher every rollout runs `steps`."""
        b, d = s0.shape[:2]
        n = b * d
        flat_z = z[:, None].expand(b, d, -1).reshape(n, -1)  # [N, Z], N = B*D
        states = s0.reshape(n, *s0.shape[2:])  # [N, 16, H, W]
        worlds = Worlds.from_onehot(states) if observations == "environment" else None
        teacher = teacher.reshape(n, steps) if teacher is not None else None  # [N, T]
        logits = z.new_zeros(n, steps, NUM_ACTIONS)  # [N, T, A]
        actions = torch.full((n, steps), NOOP_ACTION, dtype=torch.long, device=z.device)  # [N, T]
        alive = torch.arange(n, device=z.device)  # rollouts still running: rows of logits and actions
        stopped = torch.zeros(n, 2, dtype=torch.bool, device=z.device)  # per alive row: teacher, prediction
        hidden, encoded = flat_z, self.state_encoder(states)  # [n, H], [n, H]; n = len(alive) from here on
        previous = torch.full((n,), NOOP_ACTION, dtype=torch.long, device=z.device)  # [n] action fed back
        for t in range(steps):
            step_input = torch.cat([flat_z[alive], encoded, self.action_embedding(previous)], dim=1)  # [n, Z+H+A]
            hidden = self.gru(step_input, hidden)  # [n, H]
            out = self.head(hidden)  # [n, A]
            greedy = out.argmax(dim=1)  # [n]
            logits[alive, t] = out
            actions[alive, t] = greedy
            if t + 1 == steps:
                break
            taken = teacher[alive, t] if teacher is not None else greedy  # [n]
            if teacher is not None:
                stopped |= torch.stack([taken, greedy], 1) == NOOP_ACTION  # [n, 2]
                running = ~stopped.all(1)  # [n] bool; the rows kept
                alive, stopped, hidden, encoded, taken = (x[running] for x in (alive, stopped, hidden, encoded, taken))
                worlds = worlds[running] if worlds is not None else None
                if len(alive) == 0:
                    break
            previous = taken
            if worlds is not None:
                worlds, _ = step_worlds(worlds, torch.where(taken == NOOP_ACTION, -1, taken))
                encoded = self.state_encoder(worlds.to_onehot().float())  # [n, 16, H, W] -> [n, H]
        return logits.view(b, d, steps, -1), actions.view(b, d, steps)  # [B, D, T, A], [B, D, T]


class ProgramVAE(nn.Module):
    def __init__(self, hidden: int = 256, max_length: int = 45):
        super().__init__()
        self.hidden, self.max_length = hidden, max_length
        self.encoder_embedding = nn.Embedding(VOCAB_SIZE, VOCAB_SIZE)
        self.encoder = nn.GRU(VOCAB_SIZE, hidden, batch_first=True)
        self.mu = nn.Linear(hidden, hidden)
        self.log_sigma = nn.Linear(hidden, hidden)
        self.decoder_embedding = nn.Embedding(VOCAB_SIZE, VOCAB_SIZE)
        self.decoder = nn.GRU(VOCAB_SIZE + hidden, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(2 * hidden + VOCAB_SIZE, hidden), nn.Tanh(), nn.Linear(hidden, VOCAB_SIZE))
        self.condition = ConditionPolicy(hidden, hidden)
        self.grammar = Grammar(max_length)
        _init_gru(self.encoder)
        _init_gru(self.decoder)

    def encode(self, program: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """program [B, L+1] token ids (padded), mask [B, L+1] -> mu, log_sigma [B, Z]."""
        lengths = mask.sum(dim=1).clamp(min=1).cpu()  # [B] real tokens
        packed = nn.utils.rnn.pack_padded_sequence(self.encoder_embedding(program), lengths, batch_first=True,
                                                   enforce_sorted=False)  # [B, L+1, V] packed  # fmt: skip
        _, h = self.encoder(packed)  # [1, B, H]: the last hidden state of each program
        return self.mu(h[0]), self.log_sigma(h[0])

    @staticmethod
    def sample(mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
        return mu + log_sigma.exp() * torch.randn_like(mu)  # [B, Z]

    def _grammar(self, device: torch.device) -> Grammar:
        if self.grammar.allowed.device != device:
            self.grammar = self.grammar.to(device)
        return self.grammar

    def masks_for(self, inputs: torch.Tensor) -> torch.Tensor:
        """[B, L, V] grammar masks for the steps that read `inputs` [B, L] (inputs[:, 0] is DEF)."""
        grammar = self._grammar(inputs.device)
        g = grammar.initial(len(inputs))  # automaton state of B programs
        masks = []
        for t in range(inputs.shape[1]):
            g = grammar.step(g, inputs[:, t])
            masks.append(grammar.mask(g))  # [B, V]
        return torch.stack(masks, 1)  # [B, L, V]

    def decode_teacher(self, z: torch.Tensor, program: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits [B, L, V] for targets program[:, 1:L+1] (inputs program[:, :L])."""
        inputs = program[:, : self.max_length]  # [B, L]
        embedded = self.decoder_embedding(inputs)  # [B, L, V]
        zs = z[:, None].expand(-1, inputs.shape[1], -1)  # [B, L, Z]
        out, _ = self.decoder(torch.cat([embedded, zs], dim=2), z[None].contiguous())  # [B, L, H]; h0 [1, B, Z]
        logits = self.head(torch.cat([out, embedded, zs], dim=2))  # [B, L, V]
        return logits.masked_fill(~self.masks_for(inputs), NEG)

    def decode(self, z: torch.Tensor, sample: bool = False) -> torch.Tensor:
        """Free-running decoding from z [B, Z], greedy or sampled: tokens [B, L+1] (DEF first, PAD after the
        end). Decoding stops once every program has ended (the grammar allows only PAD after the end)."""
        grammar = self._grammar(z.device)
        b = len(z)
        token = torch.full((b,), DEF_ID, dtype=torch.long, device=z.device)  # [B] the token just emitted
        g = grammar.step(grammar.initial(b), token)
        hidden = z[None].contiguous()  # [1, B, H]
        tokens = torch.full((b, self.max_length + 1), PAD_ID, dtype=torch.long, device=z.device)  # [B, L+1]
        tokens[:, 0] = token
        for t in range(1, self.max_length + 1):
            embedded = self.decoder_embedding(token)  # [B, V]
            out, hidden = self.decoder(torch.cat([embedded, z], dim=1)[:, None], hidden)  # [B, 1, H], [1, B, H]
            logits = self.head(torch.cat([out[:, 0], embedded, z], dim=1)).masked_fill(~grammar.mask(g), NEG)  # [B, V]
            token = torch.distributions.Categorical(logits=logits).sample() if sample else logits.argmax(dim=1)  # [B]
            tokens[:, t] = token
            if bool((token == PAD_ID).all()):
                break
            g = grammar.step(g, token)
        return tokens

    def log_prob_of(self, z: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probability [B] and mean entropy [B] of decoding `tokens` [B, L+1] from z (teacher forced)."""
        logits = self.decode_teacher(z, tokens)  # [B, L, V]
        dist = torch.distributions.Categorical(logits=logits)
        targets = tokens[:, 1 : self.max_length + 1]  # [B, L]
        # [B, L]: a position counts up to and including the first PAD (the end token)
        live = torch.cat([torch.ones_like(targets[:, :1], dtype=torch.bool), targets[:, :-1] != PAD_ID], 1).float()
        return (dist.log_prob(targets) * live).sum(1), (dist.entropy() * live).sum(1) / live.sum(1)


def kl_divergence(mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """0.5 * mean over batch and dimensions of (mu^2 + sigma^2 - log sigma^2 - 1), as the reference."""
    return 0.5 * (mu.pow(2) + (2 * log_sigma).exp() - 2 * log_sigma - 1).mean()


def active_until_stop(tokens: torch.Tensor, stop: int) -> torch.Tensor:
    """[..., T] bool: True up to and including the first `stop` token."""
    stopped = (tokens == stop).long().cumsum(-1)  # [..., T] stops seen so far
    return (stopped == 0) | ((stopped == 1) & (tokens == stop))


def masked_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of logits [..., C] against targets [...] over the positions where mask [...] holds."""
    # logits flattened to [N, C], targets to [N]; the loss back to targets' shape [...]
    loss = F.cross_entropy(logits.flatten(0, -2), targets.flatten(), reduction="none").view(targets.shape)
    return (loss * mask).sum() / mask.sum().clamp(min=1)


def reconstruction_accuracy(
    predicted: torch.Tensor, targets: torch.Tensor, stop: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Element and sequence accuracy of predicted [..., T] ids against targets [..., T], as the reference
    computes them (`reference/leaps.md` 4.7); `stop` ends a sequence (the pad token or the no-op action).

    Element accuracy: per sequence, the share of matching positions among those where the target has not
    yet stopped or the prediction is running (up to and including its first stop), then the mean over
    sequences. Sequence accuracy: the share of sequences that match the target up to and including its stop.
    """
    scored = (targets != stop) | active_until_stop(predicted, stop)  # [..., T]
    same = predicted == targets  # [..., T]
    element = ((same & scored).sum(-1) / scored.sum(-1)).mean()  # per sequence [...], then a scalar
    sequence = (same | ~active_until_stop(targets, stop)).all(-1).float().mean()  # scalar
    return element, sequence
