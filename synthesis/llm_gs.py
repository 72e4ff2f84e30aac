"""LLM-GS (`reference/llm_gs.md` 1.1 and 2.0): a language model writes the initial programs, scheduled hill
climbing improves them.

1. Ask for ceil(1.5 x missing) completions (48 for 32 programs), read each (`synthesis.llm.candidates`,
   the faithful reader by default: no program or one, two when its Python and DSL disagree; the
   release's reader: at most one), and repeat with the deficit until 32 programs are kept (at most
   `rounds` rounds). Every completion, its finish reason, the path that produced its programs and the
   reasons (rejections, repairs, disagreements) are logged; `summarise` counts them.
2. Evaluate the 32 programs (each counts; the run stops if one solves the task), sort them by return,
   best first (ties keep their order).
3. Scheduled hill climbing whose climbs start from the sorted programs in turn, cycling, never from a
   random program; each climb re-evaluates its start program, as the reference does.

A run's step 1 (`LlmGs.prepare`) writes under `<run folder>/llm/`: requests.jsonl (every request and its
usage), candidates.jsonl (every completion and how it was read), summary.json (`summarise`'s counts, the
endpoint without credentials, the programs kept) and cache/ (the recorded requests, replayed on a rerun).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from karel.atomic import write_atomic
from karel.parser import parse
from karel.program import Program
from karel.tasks.base import Task
from synthesis.evaluator import Evaluator
from synthesis.llm.candidates import READERS, read_completion
from synthesis.llm.client import ChatClient, LlmError, LlmSettings
from synthesis.llm.prompts import system_prompt, user_prompt
from synthesis.search import Listener, ScheduledHillClimbing, ShcConfig
from synthesis.settings import choice, positive

OVERSAMPLING = 1.5  # completions asked per missing program
SUMMARY_COUNTS = (
    "reader",
    "requests_sent",
    "failed_requests",
    "requests_replayed",
    "prompt_tokens",
    "completion_tokens",
    "completions",
    "accepted",
    "rejected",
    "programs_read",
    "cut_off",
    "disagreements",
    "rejections",
)  # result.json "llm": what the model's answers gave


@dataclass
class LlmGsConfig(ShcConfig):
    """LLM-GS (`llm-gs`): the model's programs start the climbs of scheduled hill climbing."""

    llm: LlmSettings = field(default_factory=LlmSettings)
    """what is asked of the endpoint"""
    llm_programs: int = 32
    """programs kept from the model"""
    llm_rounds: int = 5
    """rounds of requests before giving up"""
    llm_cache: str = ""
    """folder of recorded requests, replayed without network (new ones are recorded there; default
    the run folder's llm/cache)"""
    reader: str = "faithful"
    """how answers are read: faithful (never guesses; docs/llm-reader.md) | release (LLM-GS's own)"""

    def validate(self) -> None:
        super().validate()
        self.llm.validate()
        positive("llm-gs", llm_programs=self.llm_programs, llm_rounds=self.llm_rounds)
        choice("reader", self.reader, READERS)


def llm_programs(task: Task, client: ChatClient, seed: int, count: int = 32, rounds: int = 5,
                 log_path: Path | None = None, user: str | None = None, reader: str = "faithful") -> list[Program]:  # fmt: skip
    """`count` programs written by the model for `task` (asked with `user`, by default the task's prompt),
    read by `reader`; the release's reader draws its choices from `RandomState(seed)` as the release."""
    rng = np.random.RandomState(seed)
    system, user = system_prompt(task.language), user or user_prompt(task)
    programs: list[Program] = []
    for round_number in range(1, rounds + 1):
        if len(programs) >= count:
            break
        asked = math.ceil((count - len(programs)) * OVERSAMPLING)
        if reader == "release":
            rng.randint(0, 2**32)  # the release draws (and only logs) a seed per request
        for completion in client.complete_detailed(system, user, asked):
            reading = read_completion(completion.text, task.language, reader=reader,
                                      finish_reason=completion.finish_reason, rng=rng)  # fmt: skip
            programs.extend(reading.programs)
            if log_path is not None:
                record = {"round": round_number, "completion": completion.text,
                          "finish_reason": completion.finish_reason, **reading.to_json()}  # fmt: skip
                with open(log_path, "a") as f:
                    f.write(json.dumps(record) + "\n")
    if len(programs) < count:
        raise LlmError(f"only {len(programs)} of {count} programs from the completions after {rounds} rounds; "
                       f"see {log_path or 'the candidate log'} for the reasons")  # fmt: skip
    return programs[:count]


def summarise(readings: list[dict], client: ChatClient) -> dict:
    """Counts over the logged readings (candidates.jsonl records) and the client's requests and tokens:
    completions, accepted / rejected completions, programs read, cut-off answers, disagreements, paths,
    and the reasons of the rejected completions by kind (`synthesis.llm.candidates.REASON_KINDS`)."""
    rejected = [r for r in readings if r["program"] is None]
    kinds = Counter(reason.split(":", 1)[0] for r in rejected for reason in r["reasons"])
    return {
        **client.accounting(),
        "completions": len(readings),
        "accepted": len(readings) - len(rejected),
        "rejected": len(rejected),
        "programs_read": sum(len(r["programs"]) for r in readings),
        "cut_off": sum(r.get("finish_reason") == "length" for r in readings),
        "disagreements": sum(r["path"] == "python+dsl" for r in readings),
        "paths": dict(sorted(Counter(r["path"] for r in readings if r["path"]).items())),
        "rejections": dict(sorted(kinds.items())),
    }


class LlmGs(ScheduledHillClimbing):
    """Scheduled hill climbing from given initial programs (written by an LLM or read from a file)."""

    name = "llm-gs"
    Config = LlmGsConfig

    @classmethod
    def from_config(cls, config: LlmGsConfig, evaluator: Evaluator, seed: int, on_improvement: Listener | None = None):
        initial = [parse(p, evaluator.language) for p in config.init_programs]
        return cls(evaluator, seed, initial, config.start_k, config.end_k, on_improvement, config=config,
                   **config.schedule)  # fmt: skip

    def __init__(self, evaluator: Evaluator, seed: int, initial: Sequence[Program] = (), start_k: int = 32,
                 end_k: int = 2048, on_improvement: Listener | None = None, *, config: LlmGsConfig | None = None,
                 **schedule):  # fmt: skip
        super().__init__(evaluator, seed, start_k, end_k, on_improvement=on_improvement, **schedule)
        self.seed, self.config = seed, config or LlmGsConfig()
        self.initial = list(initial)
        self.phase = "initial"
        self.initial_evaluations: list = []  # the initial programs' evaluations, this attempt

    def prepare(self, folder: Path) -> None:
        """Step 1 of a fresh run: the initial programs from the model (or its recorded answers), unless given;
        the requests, completions, readings and counts are written under `folder`/llm/."""
        if self.initial:
            return
        c = self.config
        llm_dir = folder / "llm"
        llm_dir.mkdir(exist_ok=True)
        for name in ("requests.jsonl", "candidates.jsonl", "summary.json"):
            (llm_dir / name).unlink(missing_ok=True)
        client = ChatClient(c.llm, c.llm_cache or llm_dir / "cache", llm_dir / "requests.jsonl")
        candidates = llm_dir / "candidates.jsonl"
        try:
            programs = llm_programs(self.evaluator.task, client, self.seed, c.llm_programs, c.llm_rounds, candidates,
                                    reader=c.reader)  # fmt: skip
        finally:  # the counts are written also when too few programs came
            readings = [json.loads(line) for line in candidates.read_text().splitlines()] if candidates.exists() else []
            summary = {"settings": client.describe(), "reader": c.reader, **summarise(readings, client)}
            write_atomic(llm_dir / "summary.json", json.dumps(summary, indent=1) + "\n")
        summary["programs"] = [str(p) for p in programs]
        write_atomic(llm_dir / "summary.json", json.dumps(summary, indent=1) + "\n")
        self.initial = programs

    @staticmethod
    def folder_summary(folder: Path) -> dict:
        """What the model's answers gave (the counts of llm/summary.json), for result.json's "llm"; empty when
        the programs were given."""
        path = folder / "llm" / "summary.json"
        if not path.exists():
            return {}
        summary = json.loads(path.read_text())
        return {"llm": {k: summary[k] for k in SUMMARY_COUNTS}}

    def step(self) -> None:
        if self.phase == "initial":
            if not self.initial:
                raise ValueError("LLM-GS needs initial programs")
            evaluations = self.evaluator.count_until_solved(self.initial, self.evaluator.scores(self.initial))
            self._record(evaluations)
            ranked = sorted(range(len(evaluations)), key=lambda i: -evaluations[i].score)  # stable: ties keep order
            self.starts = [evaluations[i].program for i in ranked]
            self.initial_evaluations = [evaluations[i] for i in ranked]
            self.phase = "climb"
            return
        self.initial_evaluations = []
        super().step()

    def stats(self) -> dict[str, float | list[float] | str]:
        """After the initial step: llm/initial_returns (histogram), llm/initial_best, llm/initial_mean and
        llm/programs (the programs ranked, with their returns); then the climbs' statistics."""
        if not self.initial_evaluations:
            return super().stats() if self.phase == "climb" else {}
        returns = [e.score for e in self.initial_evaluations]
        rows = "\n".join(f"| {rank} | {e.score:.4f} | `{e.program}` |"
                         for rank, e in enumerate(self.initial_evaluations, 1))  # fmt: skip
        return {"llm/initial_returns": returns, "llm/initial_best": max(returns),
                "llm/initial_mean": float(np.mean(returns)),
                "llm/programs": "| rank | return | program |\n|---|---|---|\n" + rows}  # fmt: skip

    def state_dict(self) -> dict:
        return {**super().state_dict(), "phase": self.phase, "starts": [str(p) for p in self.starts]}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.phase = state["phase"]
        self.starts = [self._parse(p) for p in state["starts"]]
