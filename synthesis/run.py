"""One search run and its folder: config, improvement log, best program, TensorBoard scalars, checkpoint.

    <out>/<task>/<method>/seed_<seed>/
        config.yaml      the resolved settings of the run
        vae.sha256       cem / cebs: the SHA-256 of the program VAE checkpoint searched
        log.jsonl        one line per new best: evaluations, unique_evaluations, wall_seconds, return, program
        best.txt         the best program so far (canonical text)
        checkpoint.json  the search state after the last completed step (resumable)
        attempts.jsonl   one line per start of the run: time, host, pid, the evaluations it resumed from
        result.json      written last, when the run has finished: the run's summary
        tb/              TensorBoard: best return against evaluations, what the search does per step, the
                         best program as text and animated, the settings (HParams); see synthesis.inspection

Every file is replaced atomically (written beside, then renamed) or, for `log.jsonl`, appended line by
line; a line the checkpoint does not cover (or cut by an interruption) is dropped on resume. A file of
the folder that cannot be read (config.yaml, checkpoint.json, vae.sha256, result.json) is a
`RunFolderError` naming it; it is never replaced or deleted without being asked. Interrupting a run (Ctrl-C) saves the
checkpoint of the last completed step; running the same command again (or a sweep retrying a run whose
worker died) resumes it and ends exactly as an uninterrupted run would, except that `unique_evaluations` may count again programs first met before the
interruption. A folder holding a different config is refused, and so is a cem / cebs folder whose
checkpoint file has changed since (same path, other weights). While a run executes, its folder's `.lock`
is held (flock) and names the host and pid of the process running it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import time
from pathlib import Path

import yaml

from karel.atomic import write_atomic
from karel.leaps_protocol import leaps_task
from karel.tasks import make
from synthesis.config import RunConfig
from synthesis.evaluator import Evaluation, Evaluator
from synthesis.protocol import LeapsEvaluator, heldout

CHECKPOINT_SECONDS = 5.0  # at most this long between checkpoints (and at every new best)


class RunFolderError(RuntimeError):
    """The run folder cannot be used (another config lives there, in use, or a file in it is corrupt)."""


def run_dir(out: str | Path, config: RunConfig) -> Path:
    return Path(out) / config.task / config.method / f"seed_{config.seed}"


class Run:
    """A search bound to its folder. `execute()` runs (or resumes) it to the end and returns the summary."""

    def __init__(self, config: RunConfig, out: str | Path, progress: bool = True):
        self.config, self.dir, self.progress = config, run_dir(out, config), progress
        self.task = make(config.task)
        if config.protocol == "leaps":
            self.evaluator = LeapsEvaluator(leaps_task(config.task), config.budget, config.seed,
                                            reset_quirk=config.topoff_reset_quirk)  # fmt: skip
        else:
            self.evaluator = Evaluator(self.task, config.budget, instances=config.instances, device=config.device)
        self.search = config.search_class.from_config(config.settings, self.evaluator, config.seed, self._improved)
        self.wall_offset = 0.0  # seconds spent before a resume
        self.started = time.perf_counter()
        self.writer = None
        self.board = None  # synthesis.inspection.RunBoard while executing
        self.bar = None
        self.improved = False  # a new best during the current step (checkpointed after the step)
        checkpoint = getattr(config.settings, "checkpoint", None)  # a program VAE's weights searched
        self.vae_digest = hashlib.sha256(Path(checkpoint).read_bytes()).hexdigest() if checkpoint else None

    @property
    def wall_seconds(self) -> float:
        return self.wall_offset + time.perf_counter() - self.started

    @property
    def finished(self) -> bool:
        return (self.dir / "result.json").exists()

    def result(self) -> dict:
        result = self._read("result.json", json.loads)
        if not isinstance(result, dict) or "best_return" not in result:
            raise self._corrupt("result.json", "not a run result")
        return result

    def _read(self, name: str, parse):
        """`parse` of the text of the folder's file `name`; a file that cannot be read or parsed is a
        `RunFolderError` naming it (the file is left as it is: nothing is deleted without being asked)."""
        try:
            return parse((self.dir / name).read_text())
        except (UnicodeDecodeError, ValueError, yaml.YAMLError) as error:
            raise self._corrupt(name, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")

    def _corrupt(self, name: str, reason: str) -> RunFolderError:
        return RunFolderError(f"{self.dir / name} is corrupt ({reason}); repair it, or delete the run folder "
                              f"{self.dir} to start the run again")  # fmt: skip

    def execute(self) -> dict:
        self._check_config()
        if self.finished:
            return self.result()
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".lock", "a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.seek(0)
                holder = lock.read().strip() or "another process"
                raise RunFolderError(f"{self.dir} is in use by {holder}") from None
            lock.truncate(0)
            lock.write(f"{socket.gethostname()} pid {os.getpid()}\n")
            lock.flush()
            return self._execute()

    def _execute(self) -> dict:
        if self.finished:  # finished by another process while this one waited
            return self.result()
        resumed = self._open()
        attempt = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": socket.gethostname(), "pid": os.getpid(),
                   "resumed_from": self.evaluator.evaluations if resumed else None}  # fmt: skip
        with open(self.dir / "attempts.jsonl", "a") as f:
            f.write(json.dumps(attempt) + "\n")
        if not resumed:
            self.search.prepare(self.dir)
        from torch.utils.tensorboard import SummaryWriter

        from synthesis.inspection import RunBoard

        # Every attempt marks a session start at its first step: TensorBoard takes the first mark of a run as
        # its start and a later one as a restart, dropping what an interrupted attempt wrote from that step on
        # (the steps after its checkpoint, which the resumed attempt writes again).
        self.writer = SummaryWriter(str(self.dir / "tb"), purge_step=self.evaluator.evaluations + 1)
        self.board = RunBoard(self.writer, self)
        try:
            self.board.start(resumed)
            llm = self.search.folder_summary(self.dir).get("llm")
            if llm and not resumed:
                self.board.llm(llm)
            last_good = self._state()
            self._open_bar()
            try:
                last_saved = time.perf_counter()
                while not self.search.done:
                    self.improved = False
                    self.search.step()
                    last_good = self._state()
                    self._advance_bar()
                    if self.improved or time.perf_counter() - last_saved >= CHECKPOINT_SECONDS:
                        self._save(last_good)
                        last_saved = time.perf_counter()
                    self.board.stepped(self.improved)
            except KeyboardInterrupt:
                self._save(last_good)
                raise
            finally:
                if self.bar is not None:
                    self.bar.close()
            self._save(last_good)
            result = self._summary()
            self.board.finish(result)
        finally:
            self.writer.close()
        write_atomic(self.dir / "result.json", json.dumps(result, indent=1) + "\n")
        return result

    def _open(self) -> bool:
        """Create the folder or check and load its checkpoint; return whether this is a resume."""
        config_text = yaml.safe_dump(self.config.flat(), sort_keys=False)
        checkpoint = self.dir / "checkpoint.json"
        self.dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.dir / "config.yaml", config_text)
        if self.vae_digest:
            write_atomic(self.dir / "vae.sha256", self.vae_digest + "\n")
        if not checkpoint.exists():
            (self.dir / "log.jsonl").unlink(missing_ok=True)
            return False
        state = self._read("checkpoint.json", json.loads)
        try:
            self.search.load_state_dict(state["search"])
            self.wall_offset = float(state["wall_seconds"])
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
            raise self._corrupt("checkpoint.json", f"not this search's state: {type(error).__name__} {error}") from None
        self._truncate_log(self.evaluator.evaluations)
        return True

    def _check_config(self) -> None:
        path = self.dir / "config.yaml"
        if path.exists() and not _same_config(self._read("config.yaml", yaml.safe_load), self.config.flat()):
            raise RunFolderError(f"{self.dir} holds a run with another config; choose another --out or delete "
                                 "the folder")  # fmt: skip
        digest = self.dir / "vae.sha256"
        if self.vae_digest and digest.exists() and self._read("vae.sha256", str.strip) != self.vae_digest:
            raise RunFolderError(f"{self.dir} holds a run that searched other weights under {self.config.settings.checkpoint} "
                                 "(the file's SHA-256 differs); choose another --out or delete the folder")  # fmt: skip

    def _truncate_log(self, evaluations: int) -> None:
        """Keep the log lines the checkpoint covers (a later line will be found again)."""
        path = self.dir / "log.jsonl"
        if not path.exists():
            return
        kept = []
        for raw in path.read_bytes().splitlines():
            try:
                line = raw.decode()
                record = json.loads(line)
            except ValueError:  # UnicodeDecodeError, JSONDecodeError: a line cut by the interruption
                continue
            if isinstance(record, dict) and isinstance(record.get("evaluations"), int) and \
                    record["evaluations"] <= evaluations:  # fmt: skip
                kept.append(line + "\n")
        write_atomic(path, "".join(kept))

    def _state(self) -> dict:
        return {"search": self.search.state_dict(), "wall_seconds": self.wall_seconds}

    def _save(self, state: dict) -> None:
        write_atomic(self.dir / "checkpoint.json", json.dumps(state) + "\n")

    def _improved(self, evaluation: Evaluation) -> None:
        record = {"evaluations": evaluation.index, "unique_evaluations": evaluation.unique,
                  "wall_seconds": round(self.wall_seconds, 3), "return": evaluation.score,
                  "program": str(evaluation.program)}  # fmt: skip
        with open(self.dir / "log.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
        write_atomic(self.dir / "best.txt", str(evaluation.program) + "\n")
        if self.writer is not None:
            self.writer.add_scalar("best_return", evaluation.score, evaluation.index)
            self.writer.add_scalar("best_return_by_unique", evaluation.score, evaluation.unique)
            self.board.improved(evaluation)
        self.improved = True

    def _summary(self) -> dict:
        c, search = self.config, self.search
        summary = {
            "task": c.task, "method": c.method, "seed": c.seed, "protocol": c.protocol,
            "best_return": search.best_return, "best_program": str(search.best_program),
            "evaluations": self.evaluator.evaluations, "unique_evaluations": self.evaluator.unique,
            "wall_seconds": round(self.wall_seconds, 3), "run_dir": str(self.dir),
        }  # fmt: skip
        best = None
        if search.best_program is not None:
            best = heldout(c.protocol, c.task, search.best_program, reset_quirk=c.topoff_reset_quirk)
            summary.update(best)
        summary.update(search.folder_summary(self.dir))
        if hasattr(search, "centre_return"):  # LEAPS' own number: the final centre's score and program
            summary.update(centre_return=search.centre_return, centre_program=str(search.centre_program),
                           iterations=search.iteration, converged=search.converged)  # fmt: skip
            if search.centre_program is not None:  # the centre is often the best program: held out once
                same = str(search.centre_program) == str(search.best_program)
                centre = best if same else heldout(c.protocol, c.task, search.centre_program,
                                                   reset_quirk=c.topoff_reset_quirk)  # fmt: skip
                summary.update({f"centre_{k}": v for k, v in centre.items()})
        return summary

    def _open_bar(self) -> None:
        if not self.progress:
            return
        from tqdm import tqdm

        self.bar = tqdm(total=self.config.budget, initial=self.evaluator.evaluations, unit="eval",
                        desc=f"{self.config.task} {self.config.method} seed {self.config.seed}", leave=False)  # fmt: skip

    def _advance_bar(self) -> None:
        if self.bar is not None:
            self.bar.update(self.evaluator.evaluations - self.bar.n)
            self.bar.set_postfix(best=f"{self.search.best_return:.4f}", refresh=False)


def _same_config(stored, config: dict) -> bool:
    """Whether a folder's config.yaml holds `config` (flat). A folder written before settings were kept per
    method also lists the settings of other methods: those are ignored."""
    return isinstance(stored, dict) and all(name in stored and stored[name] == value for name, value in config.items())
