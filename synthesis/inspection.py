"""What a researcher inspects after a search run: its TensorBoard (`RunBoard`, written into the run folder's
`tb/`) and the episode animations that `synthesis report` embeds in `report.html` (`episode_gif`).

Per step (x axis: program evaluations counted so far, as for `best_return`):

    search/evaluations_per_second   counted evaluations per second since the previous point
    search/unique_evaluations       distinct programs counted so far
    search/cache_hits               programs answered from the evaluation cache (this attempt: a resumed run's
    search/cache_hit_rate           cache starts empty) and their share of the programs looked up since the
                                    previous point
    ...                             the method's own quantities, `Search.stats()` (docs/inspection.md)

Per improvement: `best_return` (and `best_return_by_unique`) and `best/program`, the program as canonical
text and in the Python-like form with its return and evaluation count. Heavier things, `best/episode` (an
animated GIF of the program's episodes on instances 0, 1, 2, their returns under each panel, train and
held-out return in the title) and `best/heldout_return` (instances 1000-1999; `heldout_large` only at the
end), are written for the best program so far at most once every `MEDIA_SECONDS` of run time
(`MAX_MEDIA` per attempt) and always for the final best program: a short run shows its final program only.
Once a run ends: `final/*` scalars and the session end of the HParams view, whose session start (every
setting of config.yaml; lists by their length) is written when the run folder is created, with the
settings as a `config` text.

Step scalars are written at every step that improves the best, at the last step, and otherwise at most
once every `STEP_SECONDS` (a hill climbing step can take a millisecond; a point costs about 0.05 ms per
value): curves are sampled, not every step. Nothing here draws from a search's random generator or counts
an evaluation, so results are those of a run without it.
"""

from __future__ import annotations

import io
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from karel.program import Program, to_text
from karel.pythonic import to_python

STEP_SECONDS = 0.1  # step scalars at most 10 times a second (plus improvements and the last step)
MEDIA_SECONDS = 30.0  # an animation and held-out return of the best so far at most this often ...
MAX_MEDIA = 20  # ... at most this many times per attempt, plus the final best program
INSTANCES = (0, 1, 2)  # the instances an animation shows, side by side
MAX_FRAMES = 48  # frames of an animation; longer episodes are shown at evenly spaced steps
PANEL_PIXELS = 240  # a panel's cell size: the largest up to 16 px that keeps it within this width


@dataclass
class Shown:
    """One episode as an animation shows it: Karel worlds or MiniGrid frames (one per step, the initial
    first), the reward after every action and the episode's return (LEAPS: its score)."""

    instance: int
    rewards: list[float]
    episode_return: float
    worlds: list | None = None  # karel.world.World
    frames: list[np.ndarray] | None = None  # [H, W, 3] uint8


def record_episodes(task_name: str, protocol: str, program: Program, instances: Sequence[int] = INSTANCES, *,
                    seed: int = 0, reset_quirk: bool = True) -> list[Shown]:  # fmt: skip
    """The episodes of `program` on `instances`: task instances under `llm-gs` (MiniGrid: the instance seeds),
    worlds of the run's first world set (`seed`) under `leaps`, replayed action by action."""
    if protocol == "leaps":
        from karel.leaps_protocol import MAX_MARKERS, leaps_task, run_leaps_episode, world_set

        task = leaps_task(task_name)
        worlds = world_set(task, seed, 0, reset_quirk=reset_quirk)
        shown = []
        for i in instances:
            initial = worlds[i % len(worlds)]
            episode = run_leaps_episode(program, initial.world, task.rules(initial))
            world, steps = initial.world.copy(), [initial.world.copy()]
            for action in episode.actions:  # LEAPS' rules read the world, never change it: a replay is exact
                world.step(action, max_markers=MAX_MARKERS)
                steps.append(world.copy())
            shown.append(Shown(i, list(episode.rewards), episode.score, worlds=steps))
        return shown
    from karel.tasks import make

    task = make(task_name)
    if task.domain != "karel":
        from karel.minigrid.interpreter import run_episode

        env, shown = task.make_env(observations=False), []
        for i in instances:
            frames, rewards = [], []

            def on_step(env, action, reward, frames=frames, rewards=rewards):
                frames.append(env.get_frame(highlight=False, tile_size=16))
                if action is not None:
                    rewards.append(reward)

            episode = run_episode(program, env, i, task.language.max_calls, on_step=on_step)
            shown.append(Shown(i, rewards, episode.ret, frames=frames))
        return shown
    from karel.interpreter import run_task_episode

    episodes = [(i, run_task_episode(program, task, i, record_worlds=True)) for i in instances]
    return [Shown(i, e.rewards, e.episode_return, worlds=e.worlds) for i, e in episodes]


def frame_steps(longest: int, max_frames: int = MAX_FRAMES) -> list[int]:
    """The steps (0 = the initial state) an animation of `longest` states shows: all, or `max_frames` evenly
    spaced ones from the first to the last."""
    if longest <= max_frames:
        return list(range(longest))
    return sorted({round(s) for s in np.linspace(0, longest - 1, max_frames)})


def _caption(shown: Shown, step: int, leaps: bool) -> str:
    end = len(shown.rewards)
    if leaps:  # LEAPS scores the reward of the last action
        value = f"reward {shown.rewards[step - 1]:.3f}" if step else "reward -"
    else:
        value = f"return {math.fsum(shown.rewards[:step]):.3f}"
    return f"#{shown.instance} step {min(step, end)}/{end} {value}"


def episode_gif(shown: Sequence[Shown], title: str | None = None, *, leaps: bool = False,
                max_frames: int = MAX_FRAMES) -> tuple[bytes, int, int]:  # fmt: skip
    """An animated GIF of the episodes side by side, a caption under each (step, return so far) and
    `title` above: (bytes, width, height). Episodes that end early hold their last state."""
    longest = max(len(s.rewards) + 1 for s in shown)
    steps = frame_steps(longest, max_frames)
    captions = [[_caption(s, min(t, len(s.rewards)), leaps) for t in steps] for s in shown]
    if shown[0].worlds is not None:
        from karel.render import animate_panels

        height, width = shown[0].worlds[0].height, shown[0].worlds[0].width
        cell = max(8, min(16, PANEL_PIXELS // max(height, width)))
        panels = [[s.worlds[min(t, len(s.worlds) - 1)] for t in steps] for s in shown]
        data = animate_panels(panels, captions, cell=cell, title=title)
    else:
        data = _rgb_gif([[s.frames[min(t, len(s.frames) - 1)] for t in steps] for s in shown], captions, title)
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return data, image.width, image.height


def _rgb_gif(panels: list[list[np.ndarray]], captions: list[list[str]], title: str | None) -> bytes:
    """The MiniGrid path of `episode_gif`: RGB frames side by side, quantised to `karel.render.PALETTE`."""
    from PIL import Image

    from karel.render import PALETTE, caption_frame

    palette = Image.new("P", (1, 1))
    palette.putpalette(PALETTE.tobytes())
    frames = []
    for f in range(len(panels[0])):
        images = [caption_frame(Image.fromarray(p[f]), c[f], 24) for p, c in zip(panels, captions)]
        canvas = Image.new("RGB", (sum(i.width for i in images) + 4 * (len(images) - 1), images[0].height),
                           (255, 255, 255))  # fmt: skip
        x = 0
        for image in images:
            canvas.paste(image, (x, 0))
            x += image.width + 4
        if title:
            canvas = _title(canvas, title)
        frames.append(canvas.quantize(palette=palette, dither=Image.Dither.NONE))
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:],
                   duration=[120] * (len(frames) - 1) + [1500], loop=0)  # fmt: skip
    return buffer.getvalue()


def _title(image, title: str):
    from PIL import Image, ImageDraw

    from karel.render import _font

    out = Image.new("RGB", (image.width, image.height + 16), (255, 255, 255))
    out.paste(image, (0, 16))
    ImageDraw.Draw(out).text((3, 8), title, fill=(40, 40, 48), font=_font(11), anchor="lm")
    return out


def program_markdown(program: Program) -> str:
    """The program as canonical text and in the Python-like form, as two fenced code blocks."""
    return f"```\n{to_text(program)}\n```\n\n```python\n{to_python(program)}\n```"


def hparams_of(config) -> dict[str, int | float | str]:
    """The settings of a `synthesis.config.RunConfig` as HParams values: numbers and strings as they are, booleans as "true"
    or "false" (torch would write them as 1.0 / 0.0), lists by their length (the programs themselves are in the
    `config` text and config.yaml)."""
    out: dict[str, int | float | str] = {}
    for key, value in config.flat().items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (int, float, str)):
            out[key] = value
        elif isinstance(value, (list, tuple)):
            out[key] = len(value)
        else:
            out[key] = "" if value is None else str(value)
    return out


def _returns_text(shown: Sequence[Shown], heldout: dict[str, float], label: str) -> str:
    episodes = ", ".join(f"instance {s.instance}: {s.episode_return:.4f}" for s in shown)
    held = ", ".join(f"{k} {v:.4f}" for k, v in heldout.items())
    return f"{label}; {held}; animated episodes: {episodes}"


class RunBoard:
    """Writes a run's TensorBoard beyond `best_return` (see the module docstring). `run` is the
    `synthesis.run.Run` being executed: its config, search, evaluator and wall clock are read, never changed."""

    def __init__(self, writer, run):
        self.writer, self.run = writer, run
        self.step_seconds, self.media_seconds, self.max_media = STEP_SECONDS, MEDIA_SECONDS, MAX_MEDIA
        self.last_point = -math.inf  # run time of the last step point
        self.last_evaluations = run.evaluator.evaluations
        self.last_time = run.wall_seconds
        self.last_lookups = self.last_hits = 0
        self.last_media = run.wall_seconds  # the first improvement's media waits media_seconds into the attempt
        self.media = 0
        self.pending = None  # the best Evaluation not yet shown with media
        self.shown: str | None = None  # text of the last program shown with media
        self.seconds = 0.0  # time spent here (written as final/inspection_seconds)

    # ------------------------------------------------------------------------------------ run events

    def start(self, resumed: bool) -> None:
        """The run's settings: the HParams session start and a `config` text (once per run folder)."""
        if resumed:
            return
        from torch.utils.tensorboard.summary import hparams

        _, session_start, _ = hparams(hparams_of(self.run.config), {})
        self.writer._get_file_writer().add_summary(session_start, 0)
        rows = "\n".join(f"| {k} | `{json.dumps(v)}` |" for k, v in self.run.config.flat().items())
        self.writer.add_text("config", "| setting | value |\n|---|---|\n" + rows, 0)

    def llm(self, summary: dict) -> None:
        """LLM-GS: what the model gave (llm/summary.json), at step 0."""
        for key in ("completions", "accepted", "rejected", "programs_read", "cut_off", "disagreements",
                    "requests_sent", "requests_replayed", "prompt_tokens", "completion_tokens"):  # fmt: skip
            if isinstance(summary.get(key), (int, float)):
                self.writer.add_scalar(f"llm/{key}", summary[key], 0)

    def improved(self, evaluation) -> None:
        """A new best: its program as text, now; its media later (`stepped`)."""
        started = time.perf_counter()
        text = (f"**return {evaluation.score:.4f}** at evaluation {evaluation.index:,} ({evaluation.unique:,} "
                f"distinct programs), {self.run.wall_seconds:.1f} s\n\n{program_markdown(evaluation.program)}")  # fmt: skip
        self.writer.add_text("best/program", text, evaluation.index)
        self.pending = evaluation
        self.seconds += time.perf_counter() - started

    def stepped(self, improved: bool) -> None:
        """After a search step: the step's scalars (throttled) and the best program's media (throttled)."""
        started = time.perf_counter()
        now, search = self.run.wall_seconds, self.run.search
        if improved or search.done or now - self.last_point >= self.step_seconds:
            self._point(now)
        if (self.pending is not None and self.media < self.max_media and not search.done
                and now - self.last_media >= self.media_seconds):  # fmt: skip
            evaluation, self.pending = self.pending, None
            config = self.run.config
            from synthesis.protocol import heldout

            held = heldout(config.protocol, config.task, evaluation.program, reset_quirk=config.topoff_reset_quirk,
                           large=False)  # fmt: skip
            self._media(evaluation.program, evaluation.score, held, evaluation.index)
            self.last_media = self.run.wall_seconds
        self.seconds += time.perf_counter() - started

    def finish(self, summary: dict) -> None:
        """The run has ended: final scalars, the final best program's media, the HParams session end."""
        from torch.utils.tensorboard.summary import hparams

        started, step = time.perf_counter(), summary["evaluations"]
        for key in ("best_return", "heldout_return", "heldout_large", "centre_return", "evaluations",
                    "unique_evaluations", "wall_seconds"):  # fmt: skip
            if isinstance(summary.get(key), (int, float)):
                self.writer.add_scalar(f"final/{key}", summary[key], step)
        program = self.run.search.best_program
        if program is not None and to_text(program) != self.shown:
            held = {k: summary[k] for k in ("heldout_return", "heldout_large") if k in summary}
            self._media(program, summary["best_return"], held, step)
        self.seconds += time.perf_counter() - started
        self.writer.add_scalar("final/inspection_seconds", self.seconds, step)
        _, _, session_end = hparams({"task": summary["task"]}, {})
        self.writer._get_file_writer().add_summary(session_end, step)

    # ------------------------------------------------------------------------------------ writing

    def _point(self, now: float) -> None:
        writer, evaluator = self.writer, self.run.evaluator
        step = evaluator.evaluations
        if now > self.last_time and step > self.last_evaluations:
            writer.add_scalar("search/evaluations_per_second", (step - self.last_evaluations) / (now - self.last_time),
                              step)  # fmt: skip
        writer.add_scalar("search/unique_evaluations", evaluator.unique, step)
        writer.add_scalar("search/cache_hits", evaluator.cache_hits, step)
        lookups = evaluator.lookups - self.last_lookups
        if lookups:
            writer.add_scalar("search/cache_hit_rate", (evaluator.cache_hits - self.last_hits) / lookups, step)
        for tag, value in self.run.search.stats().items():
            if isinstance(value, str):
                writer.add_text(tag, value, step)
            elif isinstance(value, (list, tuple, np.ndarray)):
                if len(value):
                    writer.add_histogram(tag, np.asarray(value, dtype=np.float64), step)
            elif value is not None and math.isfinite(value):
                writer.add_scalar(tag, value, step)
        self.last_point, self.last_time, self.last_evaluations = now, now, step
        self.last_lookups, self.last_hits = evaluator.lookups, evaluator.cache_hits

    def _media(self, program: Program, train: float, held: dict[str, float], step: int) -> None:
        """`best/episode` (GIF), `best/heldout_return` and a `best/episode` text with the returns."""
        from tensorboard.compat.proto.summary_pb2 import Summary

        config = self.run.config
        leaps = config.protocol == "leaps"
        shown = record_episodes(config.task, config.protocol, program, seed=config.seed,
                                reset_quirk=config.topoff_reset_quirk)  # fmt: skip
        heldout_text = f" · held-out {held['heldout_return']:.3f}" if "heldout_return" in held else ""
        title = f"{config.task} {config.method} seed {config.seed} · train {train:.3f}{heldout_text}"
        data, width, height = episode_gif(shown, title, leaps=leaps)
        image = Summary.Image(height=height, width=width, colorspace=3, encoded_image_string=data)
        self.writer._get_file_writer().add_summary(Summary(value=[Summary.Value(tag="best/episode", image=image)]),
                                                   step)  # fmt: skip
        if "heldout_return" in held:
            self.writer.add_scalar("best/heldout_return", held["heldout_return"], step)
        label = f"train return {train:.4f}"
        self.writer.add_text("best/episode", _returns_text(shown, held, label) + f"\n\n{program_markdown(program)}",
                             step)  # fmt: skip
        self.shown, self.media = to_text(program), self.media + 1


__all__ = ["RunBoard", "Shown", "episode_gif", "frame_steps", "hparams_of", "program_markdown", "record_episodes"]
