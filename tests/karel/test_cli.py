"""`karel` console script end to end: output formats, batch mode and one-line errors with exit codes."""

import json
import subprocess
import sys

import pytest

from karel.cli import main

STAIRS = "DEF run m( WHILE c( noMarkersPresent c) w( turnLeft move turnRight move w) m)"


def karel(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "karel", *args], input=stdin, capture_output=True, timeout=120, check=False
    )


def test_console_script_eval_json():
    done = subprocess.run(["karel", "eval", "--task", "StairClimberSparse", "--program", STAIRS, "--json"],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"task", "program", "protocol", "engine", "device", "instances", "returns", "mean"}
    assert result["mean"] == 1.0 and result["instances"] == 32 and result["engine"] == "vm"
    assert result["protocol"] == "llm-gs"


EVAL_IMPORTS = """
import sys
from karel.cli import main
code = main(["eval", "--task", "TopOff", "--program", sys.argv[1], "--json"])
heavy = ("torch", "lightning", "pytorch_lightning", "matplotlib", "minigrid", "gymnasium", "leaps", "synthesis")
print(sorted(m for m in sys.modules if m.split(".")[0] in heavy))
sys.exit(code)
"""


def test_eval_on_the_cpu_imports_no_torch_lightning_matplotlib_or_minigrid():
    """`karel eval` starts fast: nothing on its path loads torch, Lightning, matplotlib or MiniGrid."""
    program = "DEF run m( WHILE c( frontIsClear c) w( IF c( markersPresent c) i( putMarker i) move w) m)"
    done = subprocess.run([sys.executable, "-c", EVAL_IMPORTS, program], capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result, loaded = done.stdout.splitlines()
    assert json.loads(result)["engine"] == "vm" and loaded == "[]"


def test_eval_text_output_and_instances(capsys):
    assert main(["eval", "--task", "StairClimberSparse", "--program", STAIRS, "--instances", "3"]) == 0
    out = capsys.readouterr().out
    assert "mean return 1 over 3 instances" in out and out.count("1") >= 3


def test_program_text_is_canonicalised(capsys):
    main(
        ["eval", "--task", "StairClimberSparse", "--program", "  DEF run\tm( move   m) ", "--json", "--instances", "1"]
    )
    assert json.loads(capsys.readouterr().out)["program"] == "DEF run m( move m)"


@pytest.mark.parametrize(
    "args, message",
    [
        (["eval", "--task", "Nope", "--program", STAIRS], "unknown task 'Nope'; known tasks: "),
        (["eval", "--task", "TopOff", "--program", "DEF run m( m)"], "bad program: token 3: expected"),
        (["eval", "--task", "TopOff", "--program", "DEF run m( REPEAT R=25 r( move r) m)"], "count out of range"),
        (["eval", "--task", "TopOff", "--program", STAIRS, "--instances", "0"], "expected N >= 1"),
        (
            ["eval", "--protocol", "leaps", "--task", "TopOff", "--program", STAIRS, "--seed", "-1"],
            "argument --seed: must be in 0 .. 2^32 - 1, got -1",
        ),
        (["dataset", "--out", "never_written", "--programs", "3", "--seed", "-5"], "--seed: must be in 0 .. 2^32 - 1"),
        (["render", "--task", "TopOff", "--program", STAIRS, "--out", "x.jpg"], "--out must end in .gif"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_gives_one_line_error_and_exit_code_2(args, message):
    done = karel(*args)
    assert done.returncode == 2
    err = done.stderr.decode()
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["render", "--task", "TopOff", "--program", STAIRS, "--out", "no/such/folder/x.gif"],
         "--out no/such/folder/x.gif: no folder no/such/folder (create it first)"),
        (["render", "--task", "TopOff", "--program", STAIRS, "--instance", str(2**32), "--out", "x.gif"],
         "argument --instance: must be in 0 .. 2^32 - 1, got 4294967296"),
        (["eval", "--task", "TopOff", "--program", STAIRS, "--instances", "100000000000"],
         "at most 1,000,000 instances, numbered below 2^32"),
        (["eval", "--task", "TopOff", "--program", "DEF run m( " + "IF c( frontIsClear c) i( " * 500 + "move"
          + " i)" * 500 + " m)"], "bad program: token 503: nested too deep (at most 100 nested"),
    ],
)  # fmt: skip
def test_more_bad_input_one_line_exit_2_in_process(args, message, capsys):
    try:
        code = main(args)
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # argparse prints its usage lines first
    assert code == 2 and last.startswith("karel ") and message in last and "Traceback" not in err


def test_stdin_batch_reports_bad_lines_in_place_and_keeps_going():
    stdin = (STAIRS + "\n" + "DEF run m( move\n" + "\n").encode() + b"\xff\xfe\n" + b"DEF run m( move m)\n"
    done = karel("eval", "--task", "StairClimberSparse", "--program", "-", "--instances", "4", stdin=stdin)
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert done.returncode == 1  # some lines failed
    assert len(lines) == 5
    assert lines[0]["mean"] == 1.0 and "error" not in lines[0]
    assert "token 4" in lines[1]["error"] and lines[1]["program"] == "DEF run m( move"
    assert "token 0" in lines[2]["error"]  # an empty line is a bad program, not silently dropped
    assert "unreadable line" in lines[3]["error"]
    assert lines[4]["returns"] == [0.0] * 4


def test_stdin_batch_all_good_exits_0():
    done = karel(
        "eval", "--task", "TopOff", "--program", "-", "--instances", "2", stdin=f"{STAIRS}\n{STAIRS}\n".encode()
    )
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 2


def test_tasks_lists_every_registered_task(capsys):
    from karel.tasks import MINIGRID_TASKS, TASKS

    assert main(["tasks", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["task"] for r in rows] == [*TASKS, *MINIGRID_TASKS]
    assert all(r["description"] for r in rows)
    assert [(r["domain"], r["height"], r["width"]) for r in rows[-3:]] == [("minigrid", 6, 6), ("minigrid", 6, 6),
                                                                           ("minigrid", 6, 12)]  # fmt: skip


LAVAGAP = "DEF run m( REPEAT R=19 r( IFELSE c( front_object_type h( lava h) c) i( right forward left i) ELSE e( forward e) r) m)"


def test_eval_and_render_minigrid_programs(capsys, tmp_path):
    assert main(["eval", "--task", "LavaGap", "--program", LAVAGAP, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["mean"], result["engine"], len(result["returns"])) == (0.3125, "minigrid", 32)
    assert main(["eval", "--task", "LavaGap", "--program", LAVAGAP, "--device", "cuda"]) == 2
    assert "MiniGrid task" in capsys.readouterr().err
    assert main(["eval", "--task", "LavaGap", "--program", STAIRS]) == 2  # Karel words
    assert "bad program: token 5" in capsys.readouterr().err
    out = tmp_path / "lavagap.gif"
    assert main(["render", "--task", "LavaGap", "--program", LAVAGAP, "--instance", "4", "--out", str(out)]) == 0
    assert "return 1 (terminated)" in capsys.readouterr().out
    from PIL import Image

    with Image.open(out) as gif:
        assert gif.n_frames > 5 and gif.size[0] == 6 * 32


def test_help_mentions_every_command():
    out = karel("--help").stdout.decode()
    for command in ("tasks", "eval", "render"):
        assert command in out


def test_stdin_batch_keeps_going_after_a_program_nested_too_deep(capsys, monkeypatch):
    import io

    deep = "DEF run m( " + "REPEAT R=1 r( " * 350 + "move " + "r) " * 350 + "m)"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"{STAIRS}\n{deep}\n{STAIRS}\n".encode())))
    code = main(["eval", "--task", "StairClimberSparse", "--program", "-", "--instances", "2"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert [line.get("mean") for line in lines] == [1.0, None, 1.0]
    assert lines[1]["error"].startswith("bad program: token 303: nested too deep")


def test_render_into_an_unwritable_place_is_one_line_exit_1(tmp_path, capsys, monkeypatch):
    import karel.render

    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(karel.render, "atomic_path", refuse)  # what a read-only folder answers (even as root)
    code = main(["render", "--task", "TopOff", "--program", STAIRS, "--out", str(tmp_path / "x.png")])
    assert code == 1
    assert capsys.readouterr().err == f"karel render: error: Permission denied: {tmp_path / 'x.png'}\n"


def test_dataset_refuses_to_replace_a_dataset_without_overwrite(tmp_path, capsys):
    out = tmp_path / "ds"
    assert main(["dataset", "--out", str(out), "--programs", "2", "--no-progress"]) == 0
    before = (out / "id.txt").read_text()
    capsys.readouterr()
    assert main(["dataset", "--out", str(out), "--programs", "3", "--seed", "5", "--no-progress"]) == 2
    assert (out / "id.txt").read_text() == before
    assert capsys.readouterr().err == (f"karel dataset: error: {out} already holds a dataset (data.hdf5, id.txt); "
                                       "pass --overwrite to replace it or choose another folder\n")  # fmt: skip
    assert main(["dataset", "--out", str(out), "--programs", "3", "--seed", "5", "--no-progress", "--overwrite"]) == 0
    assert len((out / "id.txt").read_text().split()) == 3


def test_dataset_into_a_path_under_a_file_is_one_line_exit_1(tmp_path, capsys):
    (tmp_path / "f").write_text("")
    assert main(["dataset", "--out", str(tmp_path / "f" / "ds"), "--programs", "2", "--no-progress"]) == 1
    assert capsys.readouterr().err == f"karel dataset: error: Not a directory: {tmp_path / 'f' / 'ds'}\n"
