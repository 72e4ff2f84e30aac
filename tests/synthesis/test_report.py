"""`synthesis.report.table`: one row per task, protocol and method, with held-out and centre columns."""

from synthesis.report import table


def run(seed, best, protocol="llm-gs", **extra):
    return {"task": "TopOff", "method": "cem", "seed": seed, "protocol": protocol, "best_return": best,
            "evaluations": 100 * (seed + 1), "wall_seconds": 2.0, **extra}  # fmt: skip


def test_rows_split_by_protocol_and_show_heldout_and_centre_columns():
    runs = [
        run(0, 1.0, heldout_return=0.9, heldout_large=0.5),
        run(1, 0.5, heldout_return=0.7, heldout_large=0.3),
        run(0, 0.4, "leaps", centre_return=0.2, heldout_return=0.3),
    ]
    rows = table(runs).splitlines()
    assert rows[0].startswith("| task | protocol | method | seeds | best return")
    assert rows[2] == (
        "| TopOff | leaps | cem | 1 | 0.400 ± 0.000 | 0.200 ± 0.000 | 0.300 ± 0.000 | — | 0/1 | — | 100 | 2.0 |"
    )
    # llm-gs: mean 0.75, s.e. 0.25; held-out 0.8 +- 0.1 and 0.4 +- 0.1; no centre; seed 0 solved at 100
    assert rows[3] == (
        "| TopOff | llm-gs | cem | 2 | 0.750 ± 0.250 | — | 0.800 ± 0.100 | 0.400 ± 0.100 | 1/2 | 100 ± 0 | 150 | 2.0 |"
    )


def test_a_column_missing_from_some_runs_says_how_many_have_it():
    rows = table([run(0, 1.0, heldout_return=1.0), run(1, 1.0)]).splitlines()
    assert "| 1.000 ± 0.000 (1) |" in rows[2]
