"""`karel` console script: `karel tasks | eval | render`.

Each subcommand is one function; `main` is the table from subcommand name to function. Usage errors
(bad flags, unknown task, malformed program) print one line to stderr and exit with code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator

from karel.interpreter import evaluate, mean_return, run_task_episode
from karel.parser import parse
from karel.program import Program, to_text
from karel.tasks import TASKS, Task, make


class UsageError(Exception):
    """Bad input from the user: reported as one line on stderr, exit code 2."""


def _task(name: str) -> Task:
    try:
        return make(name)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _program(text: str) -> Program:
    try:
        return parse(text)
    except ValueError as error:
        raise UsageError(f"bad program: {error}") from None


def cmd_tasks(args: argparse.Namespace) -> int:
    rows = []
    for name in TASKS:
        task = make(name)
        rows.append({"task": name, "height": task.height, "width": task.width, "version": task.version,
                     "description": _description(type(task))})  # fmt: skip
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    width = max(len(r["task"]) for r in rows)
    for r in rows:
        print(f"{r['task']:<{width}}  {r['height']:>2}x{r['width']:<2}  {r['description']}")
    return 0


def _description(family: type) -> str:
    """First line under 'Description:' in the task module's docstring."""
    doc = sys.modules[family.__module__].__doc__ or ""
    lines = [line.strip() for line in doc.splitlines()]
    if "Description:" in lines:
        return lines[lines.index("Description:") + 1]
    return ""


def _evaluation(task: Task, program: Program, args: argparse.Namespace) -> dict:
    returns = evaluate(program, task, range(args.instances))
    return {
        "task": task.name,
        "program": to_text(program),
        "engine": args.engine,
        "device": args.device,
        "instances": args.instances,
        "returns": returns,
        "mean": mean_return(returns),
    }


def _stdin_lines() -> Iterator[tuple[str | None, str | None]]:
    """Yield (text, error) per stdin line; undecodable lines yield an error instead of stopping."""
    for raw in sys.stdin.buffer:
        try:
            yield raw.decode("utf-8").strip(), None
        except UnicodeDecodeError as error:
            yield None, f"unreadable line: {error}"


def cmd_eval(args: argparse.Namespace) -> int:
    task = _task(args.task)
    if args.program != "-":
        result = _evaluation(task, _program(args.program), args)
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{result['task']}: mean return {result['mean']:.6g} over {args.instances} instances")
            print(f"program: {result['program']}")
            print("returns: " + " ".join(f"{r:.6g}" for r in result["returns"]))
        return 0
    failed = False
    for text, error in _stdin_lines():
        if error is None:
            try:
                result = _evaluation(task, _program(text), args)
            except UsageError as bad:
                error = str(bad)
        if error is not None:
            failed = True
            result = {"task": task.name, "program": text, "error": error}
        print(json.dumps(result), flush=True)
    return 1 if failed else 0


def cmd_render(args: argparse.Namespace) -> int:
    from karel.render import episode_captions, save_episode  # Pillow is only needed here

    task = _task(args.task)
    program = _program(args.program)
    if not args.out.endswith((".gif", ".png")):
        raise UsageError(f"--out must end in .gif (animation) or .png (first frame), got {args.out!r}")
    episode = run_task_episode(program, task, args.instance, record_worlds=True)
    save_episode(episode.worlds, args.out, captions=episode_captions(episode.actions, episode.rewards))
    what = f"{len(episode.worlds)} frames" if args.out.endswith(".gif") else "the first frame"
    print(f"{args.out}: {what} of a {len(episode.actions)}-action episode, return {episode.episode_return:.6g} "
          f"({episode.termination.name.lower()})")  # fmt: skip
    return 0


def _nonnegative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="karel", description="Karel worlds, programs and benchmark tasks.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    tasks = commands.add_parser("tasks", help="list the benchmark tasks")
    tasks.add_argument("--json", action="store_true", help="one JSON object per task")

    ev = commands.add_parser("eval", help="mean return of a program on a task's instances 0..N-1")
    ev.add_argument("--task", required=True, help="task name (see `karel tasks`)")
    ev.add_argument("--program", required=True,
                    help='program text, e.g. "DEF run m( move m)"; "-" reads one program per stdin line')  # fmt: skip
    ev.add_argument("--instances", type=_positive, default=32, help="evaluate on instances 0..N-1 (default 32)")
    ev.add_argument("--engine", choices=["reference"], default="reference", help="execution engine")
    ev.add_argument("--device", choices=["cpu"], default="cpu", help="device of the engine")
    ev.add_argument("--json", action="store_true", help="print one JSON object (per program)")

    render = commands.add_parser("render", help="render one episode as an animated GIF or a PNG")
    render.add_argument("--task", required=True, help="task name (see `karel tasks`)")
    render.add_argument("--program", required=True, help="program text")
    render.add_argument("--instance", type=_nonnegative, default=0, help="task instance (default 0)")
    render.add_argument("--out", required=True, help="output file: .gif (animation) or .png (first frame)")
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "tasks": cmd_tasks,
    "eval": cmd_eval,
    "render": cmd_render,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as error:
        print(f"karel {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
