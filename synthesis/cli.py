"""`synthesis` console script: `search`, `sweep`, `revise` and `report` (SPEC section 4).

    synthesis search --task DoorKey --method shc --budget 100000 --seed 0 --out runs/ [--json]
    synthesis search --config configs/search/hc.yaml --task Harvester --seed 3
    synthesis sweep --tasks DoorKey,Harvester --methods hc,shc --seeds 0-4 --out runs/ [--jobs 2]
    synthesis sweep --tasks DoorKey --methods hc --seeds 0-31 --out /shared/runs --backend ray --address auto
    synthesis revise --task DoorKey --method execution-trace --rounds 5 --out runs/
    synthesis report runs/
    synthesis llm-read --task DoorKey [--seed 0] [--reader faithful|release] [answer.txt]

Settings come from the defaults, then `--config FILE` (YAML with the same keys, e.g. configs/search/),
then the command line. Usage errors (bad settings, a bad checkpoint, an unusable or corrupt run folder)
print one line and exit with code 2; an endpoint that fails and files that cannot be written (no
permission, disk full) print one line and exit with 1; an interrupted search exits with 130 and resumes
when run again with the same settings. See docs/reliability.md.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
import typing
from argparse import ArgumentError
from functools import cache
from pathlib import Path

from jsonargparse import ActionConfigFile, ActionYesNo, ArgumentParser, DefaultHelpFormatter

from karel.language import Language
from karel.tasks import MAX_INSTANCES, UnknownTaskError, make
from leaps.checkpoint import CheckpointError
from synthesis.config import RUN_SETTINGS, RunConfig
from synthesis.llm.client import LlmError, LlmSettings
from synthesis.llm_gs import LlmGsConfig
from synthesis.methods import METHODS
from synthesis.run import Run, RunFolderError
from synthesis.settings import FlatField, field_docs, flat_fields
from synthesis.sweep import SweepError

DEFAULT_SWEEP_TASKS = "StairClimberSparse,MazeSparse,FourCorners,TopOff,Harvester,CleanHouse"


class UsageError(Exception):
    pass


class HelpFormatter(DefaultHelpFormatter):
    """The settings flags are unset (None) until given, and their texts state the real defaults: those are
    shown as written, without jsonargparse's "(type: ..., default: null)"."""

    def _get_help_string(self, action) -> str:
        return action.help or "" if action.default is None else super()._get_help_string(action)


def _method_label(protocol: str, name: str) -> str:
    return name if protocol == "llm-gs" else f"{name} under --protocol {protocol}"


@cache
def method_settings() -> dict[str, tuple[FlatField, list[tuple[str, str]]]]:
    """Every method setting by flat name, with the (protocol, method) pairs that have it, in METHODS' order."""
    settings: dict[str, tuple[FlatField, list[tuple[str, str]]]] = {}
    for protocol, methods in METHODS.items():
        for name, search in methods.items():
            for setting, f in flat_fields(search.Config).items():
                known, owners = settings.setdefault(setting, (f, []))
                if known.type != f.type or known.default != f.default:
                    raise TypeError(f"setting {setting!r} differs between methods ({owners[0]}, {name})")
                owners.append((protocol, name))
    return settings


def _labels(owners: list[tuple[str, str]]) -> str:
    return ", ".join(_method_label(protocol, name) for protocol, name in owners)


def _flag(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def _help(doc: str, default, owners: list[tuple[str, str]] = ()) -> str:
    """A setting's help: its docstring, the methods that have it and its default."""
    notes = [_labels(owners)] if owners else []
    if default not in ("", None, []):
        notes.append(f"default: {str(default).lower() if isinstance(default, bool) else default}")
    return f"{doc} ({'; '.join(notes)})" if notes else doc


def _add_config_arguments(parser: ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """A flag per setting of RunConfig and of every method's Config, defaults left unset (None) so that
    only the settings given reach the config; help texts are the fields' docstrings."""
    docs = field_docs(RunConfig)
    shared = parser.add_argument_group("every run")
    for f in dataclasses.fields(RunConfig):
        if f.name in skip or f.name == "settings":
            continue
        kind = typing.get_type_hints(RunConfig)[f.name]
        if f.name == "task":
            shared.add_argument("--task", type=str, required=True, help=docs["task"])
            continue
        shared.add_argument(_flag(f.name), type=kind | None, default=None, help=_help(docs[f.name], f.default))
    groups = {}
    for name, (f, owners) in method_settings().items():
        protocol, first = owners[0]  # a setting is listed with the first method that has it
        if owners[0] not in groups:
            groups[owners[0]] = parser.add_argument_group(METHODS[protocol][first].Config.__doc__.rstrip("."))
        group = groups[owners[0]]
        if name == "init_programs":
            group.add_argument("--init-programs", type=str | None, default=None,
                               help=f"file of climb start programs, one per line (cycled), instead of random "
                                    f"programs ({_labels(owners)}; llm-gs: instead of the model's)")  # fmt: skip
            continue
        group.add_argument(_flag(name), type=f.type | None, default=None, help=_help(f.doc, f.default, owners))


def build_parser(exit_on_error: bool = True) -> ArgumentParser:
    parser = ArgumentParser(prog="synthesis", description="Program search on Karel tasks: search, sweep, report.",
                            exit_on_error=exit_on_error, formatter_class=HelpFormatter)  # fmt: skip
    commands = parser.add_subcommands(dest="command")

    search = ArgumentParser(description="Run one search; writes a run folder and prints the best program.")
    search.add_argument("--config", action=ActionConfigFile, help="YAML file of settings (configs/search/*.yaml)")
    _add_config_arguments(search)
    search.add_argument("--out", type=str, default="runs", help="folder of run folders (default runs/)")
    search.add_argument("--json", action=ActionYesNo, default=False, help="print the result as one JSON object last")
    search.add_argument("--progress", action=ActionYesNo, default=True, help="progress bar on stderr (--no_progress)")
    commands.add_subcommand("search", search, help="run one search")

    sweep = ArgumentParser(description="Run tasks x methods x seeds, skipping finished runs and resuming others.")
    sweep.add_argument("--config", action=ActionConfigFile, help="YAML file of settings shared by every run")
    sweep.add_argument(
        "--tasks",
        type=str | None,
        default=None,
        help=f"comma-separated task names (default: the config file's task, else {DEFAULT_SWEEP_TASKS})",
    )
    sweep.add_argument(
        "--methods",
        type=str | None,
        default=None,
        help="comma-separated methods (default: the config file's method, else hc,shc)",
    )
    sweep.add_argument("--task", type=str | None, default=None, help="a search config file's task (--tasks wins)")
    sweep.add_argument("--method", type=str | None, default=None, help="a search config file's method (--methods wins)")
    sweep.add_argument("--seeds", type=str, default="0-4", help='seeds: "0-4" or "0,2,5"')
    _add_config_arguments(sweep, skip=("task", "method", "seed"))
    sweep.add_argument("--out", type=str, default="runs", help="folder of run folders (default runs/)")
    sweep.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="local: runs in parallel (processes; default: the CPU count)",
    )
    sweep.add_argument("--backend", type=str, default="local",
                       help="local (a process pool of --jobs) | ray (one Ray task per run; docs/cluster.md)")  # fmt: skip
    sweep.add_argument("--address", type=str | None, default=None,
                       help="ray: the cluster, auto | ray://HOST:10001 | HOST:6379 (default: a local Ray instance)")  # fmt: skip
    sweep.add_argument(
        "--cpus-per-run", type=int, default=1, help="ray: CPUs per run (also its numba/torch threads; default: 1)"
    )
    sweep.add_argument(
        "--gpus-per-run", type=float, default=0.0, help="ray: GPUs per run, fractions share one (default: 0)"
    )
    sweep.add_argument("--retries", type=int, default=3,
                       help="ray: restarts of a run whose worker died; each resumes from the run's checkpoint")  # fmt: skip
    sweep.add_argument("--storage", type=str, default="shared",
                       help="ray: shared (workers write --out, shared storage) | driver (runs return their "
                            "folders to the driver, which writes them under --out)")  # fmt: skip
    sweep.add_argument("--progress", action=ActionYesNo, default=True, help="progress bar on stderr (--no_progress)")
    commands.add_subcommand("sweep", sweep, help="run many searches")

    revise = ArgumentParser(description="LLM revision experiments: rounds of programs asked with feedback.")
    revise.add_argument("--config", action=ActionConfigFile, help="YAML file of settings")
    revise.add_argument("--task", type=str, required=True, help="Karel task name (karel.TASKS)")
    revise.add_argument("--method", type=str, required=True,
                        help="regeneration | regeneration-with-reward | execution-trace | program-execution-trace")  # fmt: skip
    revise.add_argument("--seed", type=int, default=0, help="seed of the candidate choice (the model is not seeded)")
    revise.add_argument("--rounds", type=int, default=5, help="revision rounds after the first")
    revise.add_argument("--programs", type=int, default=32, help="programs per round")
    revise.add_argument("--instances", type=int, default=32, help="task instances 0..N-1 per evaluation")
    llm = flat_fields(LlmGsConfig)
    for name in (*flat_fields(LlmSettings), "llm_rounds", "llm_cache"):
        f = llm[name]
        revise.add_argument(_flag(name), type=f.type, default=f.default, help=_help(f.doc, f.default))
    revise.add_argument("--out", type=str, default="runs", help="folder of run folders (default runs/)")
    revise.add_argument("--json", action=ActionYesNo, default=False, help="print the result as one JSON object")
    commands.add_subcommand("revise", revise, help="LLM revision experiments")

    report = ArgumentParser(description="Tables and plots of the finished runs under a folder (report.md), and "
                            "report.html: the same with each method's best program and its episodes animated.")  # fmt: skip
    report.add_argument("runs_dir", type=str, help="folder holding run folders")
    report.add_argument(
        "--out", type=str, default=None, help="where report.md, report.html and plots/ go (default RUNS_DIR)"
    )
    commands.add_subcommand("report", report, help="tables and plots of finished runs")

    read = ArgumentParser(description="Read one LLM completion exactly as an llm-gs run reads it; prints one JSON "
                          'line {"program", "path", "reasons", "programs"}.')  # fmt: skip
    read.add_argument("--task", type=str, required=True, help="task name (karel.TASKS, MiniGrid tasks)")
    read.add_argument("--seed", type=int, default=0, help="the run's seed (the release reader's choice)")
    read.add_argument("--reader", type=str, default="faithful", help="faithful | release")
    read.add_argument("--finish-reason", type=str, default="stop",
                      help="the completion's finish_reason (length: cut off by max_tokens)")  # fmt: skip
    read.add_argument("file", type=str | None, nargs="?", default=None, help="the completion (default: stdin)")
    commands.add_subcommand("llm-read", read, help="read one LLM completion as a run would")
    return parser


def _given(args, skip: tuple[str, ...] = ()) -> dict:
    """The settings given on the command line or in --config (flags left unset are None)."""
    names = (*RUN_SETTINGS, *method_settings())
    return {n: args[n] for n in names if n not in skip and n != "init_programs" and args.get(n) is not None}


def _config(args, values: dict | None = None, *, drop_foreign: bool = False) -> RunConfig:
    """The run config of the settings `values` (flat; default: those given); a bad one is a usage error
    naming it."""
    values = _given(args) if values is None else values
    task = _task(values["task"])
    if args.init_programs:
        values = {**values, "init_programs": list(_read_programs(args.init_programs, task.language))}
    try:
        return RunConfig.from_flat(values, drop_foreign=drop_foreign)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _task(name: str):
    """The task named `name`; an unknown name is a usage error listing the known ones."""
    try:
        return make(name)
    except UnknownTaskError as error:
        raise UsageError(str(error)) from None


@cache  # a sweep reads the file once per language, not once per run
def _read_programs(path: str, language: Language) -> tuple[str, ...]:
    """Programs of a file, one per line (blank lines and lines starting with # skipped), checked."""
    from karel.parser import ProgramSyntaxError, parse

    try:
        lines = Path(path).read_text().splitlines()
    except OSError as error:
        raise UsageError(f"cannot read --init-programs {path}: {error.strerror}") from None
    programs = []
    for number, line in enumerate(lines, 1):
        if line.strip() and not line.lstrip().startswith("#"):
            try:
                programs.append(str(parse(line.strip(), language)))
            except ProgramSyntaxError as error:
                raise UsageError(f"{path}:{number}: {error}") from None
    if not programs:
        raise UsageError(f"{path} holds no programs")
    return tuple(programs)


def _seeds(text: str) -> list[int]:
    """`A-B` (seeds A..B, inclusive) or `a,b,c`: a non-empty list without repeats."""
    try:
        if "-" in text:
            low, high = (int(part) for part in text.split("-"))
            seeds = list(range(low, high + 1))
        else:
            seeds = [int(s) for s in text.split(",")]
    except ValueError:
        raise UsageError(f'bad --seeds {text!r}; use "0-4" or "0,2,5"') from None
    if not seeds:
        raise UsageError(f"--seeds {text!r} is an empty range (the first seed is above the last)")
    return _without_repeats(seeds, "seeds", text)


def _names(text: str, option: str) -> list[str]:
    """A comma-separated `--tasks` or `--methods` list: empty items skipped, a repeated name refused."""
    return _without_repeats([name for name in text.split(",") if name], option, text)


def _without_repeats(items: list, option: str, text: str) -> list:
    """`items` of `--option text`, or a `UsageError` naming those listed twice (each would run twice)."""
    repeated = sorted({item for item in items if items.count(item) > 1})
    if repeated:
        raise UsageError(f"--{option} {text!r} lists {', '.join(map(str, repeated))} more than once")
    return items


def cmd_search(args) -> int:
    config = _config(args)
    result = Run(config, args.out, progress=args.progress).execute()
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['task']} {result['method']} seed {result['seed']}: best return {result['best_return']:.6g} "
              f"after {result['evaluations']:,} evaluations ({result['unique_evaluations']:,} unique), "
              f"{result['wall_seconds']:.1f} s")  # fmt: skip
        print(f"best program: {result['best_program']}")
        print(f"run folder: {result['run_dir']}")
    return 0


def cmd_sweep(args) -> int:
    from synthesis.sweep import BACKENDS, STORAGES, sweep

    if args.backend not in BACKENDS:
        raise UsageError(f"unknown --backend {args.backend!r}; use {' or '.join(BACKENDS)}")
    if args.storage not in STORAGES:
        raise UsageError(f"unknown --storage {args.storage!r}; use {' or '.join(STORAGES)}")
    if args.jobs < 1 or args.cpus_per_run < 1 or args.gpus_per_run < 0 or args.retries < 0:
        raise UsageError("--jobs and --cpus-per-run must be positive, --gpus-per-run and --retries not negative")
    tasks = _names(args.tasks or args.task or DEFAULT_SWEEP_TASKS, "tasks")
    methods = _names(args.methods or args.method or "hc,shc", "methods")
    given = _given(args, skip=("task", "method", "seed"))
    protocol = given.get("protocol", RunConfig.protocol)
    swept = [(protocol, m) for m in methods]
    for name in [*given, *(["init_programs"] if args.init_programs else [])]:
        owners = method_settings().get(name)
        if owners is not None and not set(swept) & set(owners[1]):
            raise UsageError(f"{name} is not a setting of {_labels(swept)} (it is one of {_labels(owners[1])})")
    configs = [_config(args, {**given, "task": t, "method": m, "seed": s}, drop_foreign=True)
               for t in tasks for m in methods for s in _seeds(args.seeds)]  # fmt: skip
    if args.backend == "ray":
        device = configs[0].device  # the same for every run of the sweep
        if device == "cuda" and args.gpus_per_run == 0:
            raise UsageError("--device cuda on the ray backend needs --gpus-per-run > 0 (a GPU share per run)")
        if device == "cpu" and args.gpus_per_run > 0:
            raise UsageError("--gpus-per-run reserves GPUs that --device cpu runs do not use; add --device cuda")
        try:
            import ray  # noqa: F401
        except ImportError:
            raise UsageError("the ray backend needs ray: pip install 'karel-prl[ray]'") from None
        if args.address and args.address != "auto" and not re.fullmatch(r"(ray://)?[^:\s/]+:\d+", args.address):
            raise UsageError(f"bad --address {args.address!r}; use auto, HOST:PORT or ray://HOST:PORT")
    elif args.address or args.storage != "shared" or args.gpus_per_run:
        raise UsageError("--address, --storage and --gpus-per-run belong to --backend ray")
    failures = sweep(configs, args.out, backend=args.backend, jobs=args.jobs, progress=args.progress,
                     address=args.address, cpus_per_run=args.cpus_per_run, gpus_per_run=args.gpus_per_run,
                     retries=args.retries, storage=args.storage)  # fmt: skip
    return 1 if failures else 0


def cmd_revise(args) -> int:
    from synthesis.revise import METHODS as REVISION_METHODS
    from synthesis.revise import revise

    if _task(args.task).domain != "karel":
        raise UsageError(f"revision experiments run on Karel tasks ({args.task} is a MiniGrid task)")
    if args.method not in REVISION_METHODS:
        raise UsageError(f"unknown revision method {args.method!r}; known: {', '.join(REVISION_METHODS)}")
    if args.rounds < 0 or args.programs < 1 or not 1 <= args.instances <= MAX_INSTANCES:
        raise UsageError(f"rounds must be >= 0, programs positive and instances in 1 .. {MAX_INSTANCES:,}")
    settings = LlmSettings(**{name: args[name] for name in flat_fields(LlmSettings)})
    try:
        settings.validate()
    except ValueError as error:
        raise UsageError(str(error)) from None
    result = revise(args.task, args.method, args.out, seed=args.seed, rounds=args.rounds, programs=args.programs,
                    instances=args.instances, settings=settings, llm_cache=args.llm_cache or None,
                    llm_rounds=args.llm_rounds)  # fmt: skip
    if args.json:
        print(json.dumps(result))
    else:
        returns = " ".join(f"{r:.4g}" for r in result["best_return_per_round"])
        print(f"{result['task']} {result['method']} seed {result['seed']}: best return per round {returns}")
        print(f"best program: {result['best_program']}")
        print(f"run folder: {result['run_dir']}")
    return 0


def cmd_report(args) -> int:
    from synthesis.report import ReportError, write_report

    runs_dir = Path(args.runs_dir)
    if not runs_dir.is_dir():
        raise UsageError(f"{runs_dir} is not a folder")
    try:
        path = write_report(runs_dir, Path(args.out) if args.out else None)
    except (FileNotFoundError, ReportError) as error:
        raise UsageError(str(error)) from None
    print(path)
    print(path.with_name("report.html"))
    return 0


def cmd_llm_read(args) -> int:
    import numpy as np

    from synthesis.llm.candidates import READERS, read_completion

    task = _task(args.task)
    if args.reader not in READERS:
        raise UsageError(f"unknown reader {args.reader!r}; known: {', '.join(READERS)}")
    if args.file in (None, "-"):
        text = sys.stdin.read()
    else:
        try:
            text = Path(args.file).read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"cannot read {args.file}: {getattr(error, 'strerror', None) or error}") from None
    rng = np.random.RandomState(args.seed)
    if args.reader == "release":
        rng.randint(0, 2**32)  # as a run's first request
    reading = read_completion(text, task.language, reader=args.reader, finish_reason=args.finish_reason, rng=rng)
    print(json.dumps(reading.to_json()))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["llm-read"]:  # a tool for scripts: a usage error is one line
        try:
            args = build_parser(exit_on_error=False).parse_args(argv)
        except ArgumentError as error:
            print(f"synthesis llm-read: error: {str(error).splitlines()[0]}", file=sys.stderr)
            return 2
    else:
        args = build_parser().parse_args(argv)
    command = args.command
    try:
        commands = {"search": cmd_search, "sweep": cmd_sweep, "revise": cmd_revise, "report": cmd_report,
                    "llm-read": cmd_llm_read}  # fmt: skip
        return commands[command](args[command])
    except (UsageError, RunFolderError, CheckpointError) as error:
        print(f"synthesis {command}: error: {error}", file=sys.stderr)
        return 2
    except (LlmError, SweepError) as error:
        print(f"synthesis {command}: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a file or folder that cannot be read or written (permissions, disk full)
        where = f": {error.filename}" if error.filename else ""
        print(f"synthesis {command}: error: {error.strerror or error}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"synthesis {command}: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
