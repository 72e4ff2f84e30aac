"""The syntax mask of the program decoder: a vectorised pushdown automaton over LEAPS token ids.

It accepts exactly the programs

    prog  := DEF run m( stmts m)          stmts := stmt stmt*   (bodies are never empty)
    stmt  := action | WHILE c( cond c) w( stmts w) | REPEAT R=k r( stmts r)
           | IF c( cond c) i( stmts i) | IFELSE c( cond c) i( stmts i) ELSE e( stmts e)
    cond  := perception | not c( perception c)

followed by padding, of at most `max_length` tokens: a token is allowed only if the shortest way to
finish the program from there still fits (every open bracket can be closed). So greedy or sampled
decoding under the mask always yields a program that `karel.parser` reads. This is stricter than the
reference's syntax checker, which allows empty bodies and can run out of length with brackets open.

State per program (all tensors, batch first, on any device): the automaton state [B], a stack of open
frames [B, D] with its depth [B], the tokens the open frames need to close [B], and the position [B].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from karel.dsl import MAX_REPEAT, PAD_ID, TOKEN_ID, VOCAB_SIZE, Action, Perception

ACTIONS = [a.name for a in Action]
PERCEPTIONS = [p.name for p in Perception]
COUNTS = [f"R={n}" for n in range(MAX_REPEAT + 1)]

# Frames (open brackets) and what closing them costs once their body holds a statement.
FRAMES = {"m": ("m)", 1), "w": ("w)", 1), "r": ("r)", 1), "if": ("i)", 1), "ifelse": ("i)", 5), "e": ("e)", 1)}
FRAME_IDS = {name: i for i, name in enumerate(FRAMES)}


def _build_tables():
    """Transition tables: allowed [S, V], next state [S, V], pushed frame [S, V] (-1: none), minimal cost
    to finish from each state [S] (not counting frames already open), and per frame its closer token,
    closing cost and the state after it is closed."""
    states: dict[str, int] = {}
    edges: list[tuple[str, str, str, str | None]] = []  # (state, token, next state, pushed frame)
    cost: dict[str, int] = {}

    def add(state: str, token: str, nxt: str, push: str | None = None) -> None:
        edges.append((state, token, nxt, push))

    cost.update({"def": 5, "run": 4, "m_open": 3, "first": 1, "next": 0, "end": 0, "pad": 0, "else": 4,
                 "e_open": 3, "r_count": 4, "r_open": 3})  # fmt: skip
    add("def", "DEF", "run")
    add("run", "run", "m_open")
    add("m_open", "m(", "first", "m")
    for statement_state in ("first", "next"):
        for action in ACTIONS:
            add(statement_state, action, "next")
        add(statement_state, "WHILE", "while_c")
        add(statement_state, "IF", "if_c")
        add(statement_state, "IFELSE", "ifelse_c")
        add(statement_state, "REPEAT", "r_count")
    for count in COUNTS:
        add("r_count", count, "r_open")
    add("r_open", "r(", "first", "r")
    add("else", "ELSE", "e_open")
    add("e_open", "e(", "first", "e")
    add("end", "<pad>", "pad")
    add("pad", "<pad>", "pad")
    for kind, opener, frame, extra in (("while", "w(", "w", 0), ("if", "i(", "if", 0), ("ifelse", "i(", "ifelse", 4)):
        body = 3 + extra  # opener, a statement, the closer (+ ELSE e( a e) for IFELSE)
        # tokens still needed: after the keyword "c( p c)", after c( "p c)", after not "c( p c) c)", ...
        cost.update({f"{kind}_c": 3 + body, f"{kind}_p": 2 + body, f"{kind}_not": 4 + body, f"{kind}_np": 3 + body,
                     f"{kind}_nc": 2 + body, f"{kind}_close": 1 + body, f"{kind}_body": body})  # fmt: skip
        add(f"{kind}_c", "c(", f"{kind}_p")
        for perception in PERCEPTIONS:
            add(f"{kind}_p", perception, f"{kind}_close")
            add(f"{kind}_np", perception, f"{kind}_nc")
        add(f"{kind}_p", "not", f"{kind}_not")
        add(f"{kind}_not", "c(", f"{kind}_np")
        add(f"{kind}_nc", "c)", f"{kind}_close")
        add(f"{kind}_close", "c)", f"{kind}_body")
        add(f"{kind}_body", opener, "first", frame)
    for name in cost:
        states.setdefault(name, len(states))
    vocab = {**TOKEN_ID, "<pad>": PAD_ID}
    num_states = len(states)
    allowed = torch.zeros(num_states, VOCAB_SIZE, dtype=torch.bool)  # [S, V]
    next_state = torch.zeros(num_states, VOCAB_SIZE, dtype=torch.long)  # [S, V]
    push = torch.full((num_states, VOCAB_SIZE), -1, dtype=torch.long)  # [S, V] frame pushed, -1 none
    for state, token, nxt, frame in edges:
        s, t = states[state], vocab[token]
        allowed[s, t] = True
        next_state[s, t] = states[nxt]
        push[s, t] = FRAME_IDS[frame] if frame else -1
    after_close = {"m": "end", "w": "next", "r": "next", "if": "next", "ifelse": "else", "e": "next"}
    closer = torch.tensor([vocab[c] for c, _ in FRAMES.values()])  # [F] closing token of each frame
    frame_cost = torch.tensor([k for _, k in FRAMES.values()])  # [F]
    pop_state = torch.tensor([states[after_close[f]] for f in FRAMES])  # [F]
    state_cost = torch.tensor([cost[name] for name in states])  # [S]
    return states, allowed, next_state, push, state_cost, closer, frame_cost, pop_state


@dataclass
class GrammarState:
    state: torch.Tensor  # [B] automaton state
    stack: torch.Tensor  # [B, D] open frames, bottom first
    depth: torch.Tensor  # [B] number of open frames
    closing: torch.Tensor  # [B] tokens the open frames need to close
    position: torch.Tensor  # [B] tokens read so far


class Grammar:
    """The automaton's tables on one device; `initial`, `mask` and `step` work on whole batches."""

    def __init__(self, max_length: int = 45, max_depth: int = 16, device: torch.device | str = "cpu"):
        names, allowed, nxt, push, cost, closer, frame_cost, pop_state = _build_tables()
        self.max_length, self.max_depth = max_length, max_depth
        self.names = names
        self.allowed, self.next_state, self.push = allowed.to(device), nxt.to(device), push.to(device)
        self.state_cost, self.closer = cost.to(device), closer.to(device)
        self.frame_cost, self.pop_state = frame_cost.to(device), pop_state.to(device)
        self.next_id = names["next"]
        frame_of_closer = torch.full((VOCAB_SIZE,), -1, dtype=torch.long)  # [V]
        for f, token in enumerate(closer.tolist()):
            frame_of_closer[token] = f
        self.is_closer = (frame_of_closer >= 0).to(device)  # [V]

    def to(self, device: torch.device | str) -> Grammar:
        return Grammar(self.max_length, self.max_depth, device)

    def initial(self, batch: int) -> GrammarState:
        device = self.allowed.device
        zeros = torch.zeros(batch, dtype=torch.long, device=device)  # [B]
        stack = torch.zeros(batch, self.max_depth, dtype=torch.long, device=device)  # [B, max_depth]
        return GrammarState(zeros + self.names["def"], stack, zeros.clone(), zeros.clone(), zeros.clone())

    def _top(self, g: GrammarState) -> torch.Tensor:
        return g.stack.gather(1, (g.depth - 1).clamp(min=0)[:, None]).squeeze(1)  # [B]

    def mask(self, g: GrammarState) -> torch.Tensor:
        """[B, V] bool: the tokens allowed next."""
        top = self._top(g)
        can_close = (g.state == self.next_id) & (g.depth > 0)
        closer = torch.zeros_like(self.allowed[g.state])  # [B, V]
        closer.scatter_(1, self.closer[top][:, None], can_close[:, None])  # the top frame's closer
        allowed = self.allowed[g.state] | closer  # [B, V]
        # cost to finish after each token: its next state's cost plus the frames then open
        pushed = self.push[g.state]  # [B, V]
        cost = self.state_cost[self.next_state[g.state]] + g.closing[:, None]
        cost = cost + torch.where(pushed >= 0, self.frame_cost[pushed.clamp(min=0)], 0)
        close_cost = self.state_cost[self.pop_state[top]] + g.closing - self.frame_cost[top]  # [B]
        cost = torch.where(self.is_closer[None, :] & closer, close_cost[:, None], cost)
        remaining = (self.max_length - (g.position[:, None] + 1)).clamp(min=0)  # tokens that may follow
        return allowed & (cost <= remaining)

    def step(self, g: GrammarState, tokens: torch.Tensor) -> GrammarState:
        """Read `tokens` [B] (which must be allowed)."""
        top = self._top(g)
        closing_token = self.is_closer[tokens] & (g.state == self.next_id)
        pushed = self.push[g.state, tokens]
        state = torch.where(closing_token, self.pop_state[top], self.next_state[g.state, tokens])
        rows = torch.arange(len(tokens), device=tokens.device)
        stack = g.stack.clone()
        push_rows = pushed >= 0
        stack[rows[push_rows], g.depth[push_rows]] = pushed[push_rows]
        depth = g.depth + push_rows.long() - closing_token.long()
        closing = g.closing + torch.where(push_rows, self.frame_cost[pushed.clamp(min=0)], 0)
        closing = closing - torch.where(closing_token, self.frame_cost[top], 0)
        return GrammarState(state, stack, depth, closing, g.position + 1)


__all__ = ["Grammar", "GrammarState"]
