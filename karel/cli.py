"""`karel` console script: `karel tasks | eval | render | dataset` (Karel and MiniGrid tasks).

Each subcommand is one function; `main` is the table from subcommand name to function. Usage errors
(bad flags, unknown task, malformed program, a missing output folder, an existing dataset without
`--overwrite`) print one line to stderr and exit with code 2; a file that cannot be read or written (no
permission, disk full) prints one line and exits with code 1. See docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from karel.interpreter import evaluate, mean_return
from karel.parser import parse
from karel.program import Program, to_text
from karel.tasks import MAX_INSTANCES, TaskProtocol, make, registry
from karel.tasks.protocol import domain_name


class UsageError(Exception):
    """Bad input from the user: reported as one line on stderr, exit code 2."""


def _task(name: str) -> TaskProtocol:
    try:
        return make(name)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _program(text: str, task: TaskProtocol) -> Program:
    try:
        return parse(text, task.language)
    except ValueError as error:
        raise UsageError(f"bad program: {error}") from None


def cmd_tasks(args: argparse.Namespace) -> int:
    rows = []
    for name in registry:
        task = make(name)
        height, width = task.grid_size
        rows.append({"task": name, "domain": task.domain, "height": height, "width": width,
                     "version": task.version, "description": task.description})  # fmt: skip
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    width = max(len(r["task"]) for r in rows)
    for r in rows:
        print(f"{r['task']:<{width}}  {r['height']:>2}x{r['width']:<2}  {r['description']}")
    return 0


def _returns(task: TaskProtocol, programs: list[Program], args: argparse.Namespace) -> list[list[float]]:
    """Episode returns of every program on the chosen instances, with the chosen engine (`task.returns`,
    or Karel's reference interpreter); under the leaps protocol, LEAPS' per-world scores (without the
    bonus) on the worlds of the stream of `--seed`."""
    seeds = args.instances
    if args.protocol == "leaps":
        from karel import leaps_protocol

        worlds = leaps_protocol.stream_worlds(task, args.seed, seeds.stop)[seeds.start :]
        return leaps_protocol.world_scores(programs, task, worlds).tolist()
    if args.engine == "reference":
        return [evaluate(program, task, seeds) for program in programs]
    return task.returns(programs, seeds, device=args.device).tolist()  # Karel's cpu VM loads no torch


def _result(task, program: Program, returns: list[float], args: argparse.Namespace) -> dict:
    seeds = args.instances
    result = {
        "task": task.name,
        "program": to_text(program),
        "protocol": args.protocol,
        "engine": args.engine,
        "device": args.device,
        "instances": len(seeds),
        "returns": returns,
        "mean": mean_return(returns),
    }
    if seeds.start:
        result["instance_range"] = [seeds.start, seeds.stop - 1]
    if args.protocol == "leaps":
        result["seed"] = args.seed
        result["leaps_score"] = result["mean"] + 0.1  # what LEAPS prints: the mean plus its syntax bonus
    return result


def _stdin_programs(task: TaskProtocol) -> list[Program | dict]:
    """Each stdin line as a parsed program, or as the error line to print in its place."""
    parsed = []
    for raw in sys.stdin.buffer:
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as error:
            parsed.append({"task": task.name, "program": None, "error": f"unreadable line: {error}"})
            continue
        try:
            parsed.append(_program(text, task))
        except UsageError as bad:
            parsed.append({"task": task.name, "program": text, "error": str(bad)})
    return parsed


def cmd_eval(args: argparse.Namespace) -> int:
    task = _task(args.task)
    if args.protocol == "leaps":
        from karel import leaps_protocol

        try:
            task = leaps_protocol.leaps_task(task.name)
        except leaps_protocol.UnknownLeapsTaskError as error:
            raise UsageError(str(error)) from None
        if args.engine == "vm" or args.device == "cuda":
            args.engine, args.device = "reference", "cpu"  # LEAPS' evaluation runs on the reference interpreter
    elif args.seed is not None:
        raise UsageError("--seed chooses LEAPS' world stream: it needs --protocol leaps (llm-gs instances are fixed)")
    else:
        if args.engine not in task.engines:  # a task with one engine (MiniGrid's environments) runs on it
            args.engine = task.engines[0]
        if args.device not in task.devices:
            devices = " or ".join(device.upper() for device in task.devices)
            raise UsageError(f"{task.name} is a {domain_name(task)} task: it runs on the {devices} only "
                             f"(drop --device {args.device})")  # fmt: skip
    args.seed = 0 if args.seed is None else args.seed
    if args.instances is None:
        args.instances = range(10 if args.protocol == "leaps" else 32)
    if args.device == "cuda" and args.engine == "reference":
        raise UsageError("the reference engine runs on the CPU; use --engine vm for --device cuda")
    if args.device == "cuda" and not _cuda_available():
        raise UsageError("--device cuda: no CUDA device is available")
    if args.program != "-":
        program = _program(args.program, task)
        result = _result(task, program, _returns(task, [program], args)[0], args)
        if args.json:
            print(json.dumps(result))
        else:
            what = "LEAPS score (without its 0.1 bonus)" if args.protocol == "leaps" else "return"
            print(f"{result['task']}: mean {what} {result['mean']:.6g} over {len(args.instances)} instances")
            print(f"program: {result['program']}")
            print("returns: " + " ".join(f"{r:.6g}" for r in result["returns"]))
        return 0
    lines = _stdin_programs(task)
    programs = [p for p in lines if isinstance(p, Program)]
    returns = iter(_returns(task, programs, args) if programs else [])  # all programs as one batch
    for line in lines:
        print(json.dumps(_result(task, line, next(returns), args) if isinstance(line, Program) else line))
    return 1 if len(programs) < len(lines) else 0


def _cuda_available() -> bool:
    from karel.vm import cuda

    return cuda.available()


def cmd_render(args: argparse.Namespace) -> int:
    task = _task(args.task)
    program = _program(args.program, task)
    if not args.out.endswith((".gif", ".png")):
        raise UsageError(f"--out must end in .gif (animation) or .png (first frame), got {args.out!r}")
    folder = Path(args.out).parent
    if not folder.is_dir():
        raise UsageError(f"--out {args.out}: no folder {folder} (create it first)")
    episode = task.render_episode(program, args.instance, args.out)  # Pillow is only needed here
    what = f"{episode.frames} frames" if args.out.endswith(".gif") else "the first frame"
    print(f"{args.out}: {what} of a {episode.actions}-action episode, return {episode.episode_return:.6g} "
          f"({episode.end})")  # fmt: skip
    return 0


def cmd_dataset(args: argparse.Namespace) -> int:
    import time

    from leaps.datamodule import DatasetError
    from leaps.dataset import DatasetConfig, DatasetExistsError, statistics, write_dataset

    if (args.out is None) == (args.stats is None):
        raise UsageError("give either --out DIR (generate) or --stats DIR (describe)")
    if args.stats is not None:
        try:
            print(json.dumps(statistics(args.stats), indent=1))
        except DatasetError as error:
            raise UsageError(str(error)) from None
        return 0
    start = time.perf_counter()
    config = DatasetConfig(programs=args.programs, seed=args.seed, cover_branches=args.cover_branches)
    try:
        out = write_dataset(args.out, config, progress=not args.no_progress, overwrite=args.overwrite)
    except DatasetExistsError as error:
        raise UsageError(str(error)) from None
    print(f"{out}: {args.programs} programs with {config.demos} demonstrations each, "
          f"{time.perf_counter() - start:.1f} s (data.hdf5, id.txt)")  # fmt: skip
    return 0


def _seed(text: str) -> int:
    """A seed, 0 <= s < 2^32: the seed range of NumPy's generators, LEAPS' and the task instances' (an
    instance number is its generator's seed)."""
    value = int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be in 0 .. 2^32 - 1, got {value}")
    return value


def _instances(text: str) -> range:
    """`N` (instances 0..N-1) or `A-B` (instances A..B, inclusive)."""
    try:
        if "-" in text:
            low, high = (int(part) for part in text.split("-"))
        else:
            low, high = 0, int(text) - 1
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or A-B, got {text!r}") from None
    if low < 0 or high < low:
        raise argparse.ArgumentTypeError(f"expected N >= 1 or 0 <= A <= B, got {text!r}")
    if high - low + 1 > MAX_INSTANCES or high >= 2**32:
        raise argparse.ArgumentTypeError(f"at most {MAX_INSTANCES:,} instances, numbered below 2^32 (got {text!r})")
    return range(low, high + 1)


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

    ev = commands.add_parser("eval", help="mean return of a program on a task's instances 0..N-1",
                             description="Mean return of a program on task instances (llm-gs protocol), or its "
                             "mean LEAPS score on worlds of LEAPS' generator (--protocol leaps).")  # fmt: skip
    ev.add_argument("--task", required=True, help="task name (see `karel tasks`)")
    ev.add_argument("--program", required=True,
                    help='program text, e.g. "DEF run m( move m)"; "-" reads one program per stdin line')  # fmt: skip
    ev.add_argument("--instances", type=_instances, default=None,
                    help="N: instances 0..N-1 (default 32; under --protocol leaps, the first N worlds, default 10); "
                         "A-B: instances A..B, e.g. 1000-1999 (held out)")  # fmt: skip
    ev.add_argument("--protocol", choices=["llm-gs", "leaps"], default="llm-gs",
                    help="llm-gs: LLM-GS's tasks and returns (default); leaps: LEAPS' own evaluation of its six "
                         "tasks (last-action reward, 220-node budget), mean without the 0.1 bonus")  # fmt: skip
    ev.add_argument("--seed", type=_seed, default=None,
                    help="--protocol leaps: the seed of LEAPS' world stream (default 0: the worlds a search "
                         "with seed 0 scores on first)")  # fmt: skip
    ev.add_argument("--engine", choices=["vm", "reference"], default="vm",
                    help="Karel: the compiled VM (default) or the reference interpreter; MiniGrid tasks have "
                         "one engine (their environments, reported as 'minigrid')")  # fmt: skip
    ev.add_argument(
        "--device",
        choices=["cpu", "cuda"],
        default="cpu",
        help="device of the VM (cuda: the CUDA kernel; NUMBA_ENABLE_CUDASIM=1 runs it in numba's simulator)",
    )
    ev.add_argument("--json", action="store_true", help="print one JSON object (per program)")

    render = commands.add_parser("render", help="render one episode as an animated GIF or a PNG")
    render.add_argument("--task", required=True, help="task name (see `karel tasks`)")
    render.add_argument("--program", required=True, help="program text")
    render.add_argument("--instance", type=_seed, default=0, help="task instance (default 0)")
    render.add_argument("--out", required=True, help="output file: .gif (animation) or .png (first frame)")

    dataset = commands.add_parser("dataset", help="generate a LEAPS program dataset, or describe one (--stats)",
                                  description="Random programs with 10 demonstrations each on random 8x8 worlds, "
                                  "written as data.hdf5 and id.txt in the LEAPS layout.")  # fmt: skip
    dataset.add_argument("--out", help="folder to write data.hdf5 and id.txt to (e.g. data/karel_dataset)")
    dataset.add_argument("--stats", metavar="DIR", help="print statistics of the dataset in DIR as JSON")
    dataset.add_argument("--programs", type=_positive, default=50_000, help="programs to generate (default 50000)")
    dataset.add_argument("--seed", type=_seed, default=123, help="seed of programs and worlds (default 123)")
    dataset.add_argument("--cover-branches", action="store_true",
                         help="choose demonstrations by LEAPS' branch-coverage rule")  # fmt: skip
    dataset.add_argument("--overwrite", action="store_true", help="replace a dataset already in --out")
    dataset.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "tasks": cmd_tasks,
    "eval": cmd_eval,
    "render": cmd_render,
    "dataset": cmd_dataset,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as error:
        print(f"karel {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a file that cannot be read or written: the environment, not the input
        print(f"karel {args.command}: error: {_os_error(error)}", file=sys.stderr)
        return 1


def _os_error(error: OSError) -> str:
    """One line for an OSError: what failed and on which file, e.g. 'No space left on device: data.hdf5'."""
    if error.strerror is None:
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"{error.strerror}: {error.filename}" if error.filename else error.strerror


if __name__ == "__main__":
    sys.exit(main())
