"""Execution traces for revision prompts (`reference/llm_gs.md` 7): one episode of a program, step by step.

Each step is one call: an action (with its step reward when it is not 0) or a perception with its value,
then the 3 x 3 cells around Karel (the world's text form: `#` wall, an arrow for Karel, a digit for
markers, `.` empty; `#` also outside the grid). With the program shown, each step also prints the whole
program in Python form with `# <- here` on the line making the call. At most `max_steps` steps are shown,
then a note says how many more there were.
"""

from __future__ import annotations

from karel.interpreter import Call, run_episode
from karel.program import Program
from karel.pythonic import to_python_lines
from karel.tasks.base import Task
from karel.world import World

HERE = "  # <- here"


def local_view(world: World) -> str:
    """The 3 x 3 cells around the agent, one text row per line."""
    rows = []
    for r in range(world.row - 1, world.row + 2):
        cells = []
        for c in range(world.col - 1, world.col + 2):
            inside = 0 <= r < world.height and 0 <= c < world.width
            cells.append(world._cell_text(r, c) if inside else "#")
        rows.append(" ".join(f"{cell:>3}" for cell in cells))
    return "\n".join(rows)


def trace(program: Program, task: Task, instance: int, *, with_program: bool = False, max_steps: int = 49) -> str:
    """The text trace of `program` on instance `instance` of `task`."""
    inst = task.instance(instance)
    calls: list[str] = []
    lines = to_python_lines(program)

    def observe(call: Call) -> None:
        if len(calls) == max_steps:
            return  # the rest is only counted (`episode.calls`)
        if call.kind == "action":
            head = f"{call.name}()" + (f"  reward {call.reward:+.4g}" if call.reward else "")
        else:
            head = f"{call.name}() -> {call.value}"
        text = f"Step {len(calls) + 1}: {head}\n{local_view(call.world)}"
        if with_program:
            here = next((i for i, (_, pos) in enumerate(lines) if pos == call.position and i > 0), None)
            text += "\n" + "\n".join(line + (HERE if i == here else "") for i, (line, _) in enumerate(lines))
        calls.append(text)

    episode = run_episode(program, inst.world, task.rules(inst), observer=observe)
    parts = [f"Initial map of variant {instance}:\n{inst.world.to_text()}", *calls]
    if episode.calls > max_steps:
        parts.append(f"... the trace goes on for {episode.calls - max_steps} more calls (not shown).")
    parts.append(f"The episode ended by {episode.termination.name.lower().replace('_', ' ')} with return "
                 f"{episode.episode_return:.4g} after {episode.calls} calls.")  # fmt: skip
    return "\n\n".join(parts)
