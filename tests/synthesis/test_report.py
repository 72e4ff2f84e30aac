"""`synthesis.report`: one row per task, protocol and method, with held-out and centre columns; report.html
in a real headless browser."""

import base64
import html
import io
import json
import re
import shutil
import subprocess

import pytest
from PIL import Image

from synthesis.config import RunConfig
from synthesis.report import best_runs, load_runs, table, write_report
from synthesis.run import Run
from synthesis.search import RandomConfig


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


def test_best_runs_take_the_best_return_then_held_out_then_fewer_evaluations():
    runs = [run(0, 0.5, heldout_return=0.9), run(1, 0.8, heldout_return=0.1), run(2, 0.8, heldout_return=0.4),
            run(3, 0.8, heldout_return=0.4)]  # fmt: skip
    assert best_runs(runs)[("TopOff", "llm-gs", "cem")]["seed"] == 2  # seed 3 ties but spent more evaluations


CHROMIUM = ("chromium", "chromium-headless-shell", "chromium-browser", "google-chrome", "chrome-headless-shell")
PROBE = """<script>
addEventListener("load", () => {
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({
    tables: [...document.querySelectorAll("table")].map(t => t.querySelectorAll("tbody tr").length),
    images: [...document.images].map(i => [i.className, i.complete, i.naturalWidth, i.naturalHeight]),
    programs: [...document.querySelectorAll("pre.dsl")].map(p => p.textContent),
  });
  document.body.appendChild(probe);
});
</script>
"""


def test_report_html_renders_in_a_headless_browser(tmp_path):
    """report.html, opened from disk by a real Chromium: the tables, the plots and every animation decode."""
    browser = next((shutil.which(name) for name in CHROMIUM if shutil.which(name)), None)
    if browser is None:
        pytest.skip("no Chromium binary on PATH (CI installs the Debian package `chromium`, see .ci/run)")
    runs = tmp_path / "runs"
    for config in (RunConfig(task="MazeSparse", method="hc", budget=300, instances=4, seed=0),
                   RunConfig(task="MazeSparse", method="hc", budget=300, instances=4, seed=1),
                   RunConfig(task="DoorKey", method="random", budget=128, instances=4, settings=RandomConfig(batch=64)),
                   RunConfig(task="LavaGap", method="hc", budget=40, instances=2)):  # fmt: skip
        Run(config, runs, progress=False).execute()
    write_report(runs)
    page = (runs / "report.html").read_text()
    assert not re.search(r'src="(?!data:)', page)  # self-contained: every picture is a data URI
    gifs = re.findall(r'class="episode" width="(\d+)" height="(\d+)"[^>]*src="data:image/gif;base64,([^"]+)"', page)
    for width, height, data in gifs:
        with Image.open(io.BytesIO(base64.b64decode(data))) as gif:
            assert gif.size == (int(width), int(height)) and gif.n_frames >= 1
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"))
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
                          "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=180, check=False)  # fmt: skip
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout, re.DOTALL)
    assert found, f"no probe in the DOM (exit {dom.returncode}): {dom.stderr[-500:]}"
    seen = json.loads(html.unescape(found.group(1)))
    assert seen["tables"] == [3]  # rows: DoorKey random, LavaGap hc, MazeSparse hc (2 seeds)
    assert [i for i in seen["images"] if i[0] == "plot"] == [["plot", True, 600, 408]] * 3  # 5 x 3.4 in, 120 dpi
    assert [i for i in seen["images"] if i[0] == "episode"] == [["episode", True, int(w), int(h)] for w, h, _ in gifs]
    best = best_runs(load_runs(runs))
    assert len(gifs) == len(best) == 3
    assert seen["programs"] == [r["best_program"] for _, r in sorted(best.items())]
