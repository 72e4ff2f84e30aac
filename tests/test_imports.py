"""Dependencies point down: the search CLI does not load the training stack, and no module imports a cycle."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("karel", "synthesis", "leaps")


def test_the_search_cli_does_not_import_lightning_or_matplotlib():
    code = (
        "import sys, synthesis.cli; print(' '.join(m for m in ('pytorch_lightning', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == ""


def _module_imports() -> dict[str, set[str]]:
    """Each module of the packages -> the package modules it imports at module level (not in functions,
    not under `if TYPE_CHECKING`)."""
    files = {}
    for package in PACKAGES:
        for file in (ROOT / package).rglob("*.py"):
            parts = file.relative_to(ROOT).with_suffix("").parts
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = file
    graph = {}
    for name, file in files.items():
        deps = set()
        for node in ast.parse(file.read_text()).body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            for item in node.body if isinstance(node, ast.If | ast.Try) else [node]:
                if isinstance(item, ast.Import):
                    deps |= {alias.name for alias in item.names}
                elif isinstance(item, ast.ImportFrom) and item.module and item.level == 0:
                    deps |= {item.module} | {f"{item.module}.{alias.name}" for alias in item.names}
        graph[name] = {d for d in deps if d in files and d != name}
    return graph


def test_no_import_cycle_and_the_domain_imports_nothing_above_it():
    graph = _module_imports()
    upward = sorted(f"{m} -> {d}" for m, deps in graph.items() for d in deps
                    if m.split(".")[0] == "karel" and d.split(".")[0] != "karel")  # fmt: skip
    assert upward == []
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def cycle_from(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep] if dep in path else [*path, dep]
            if dep not in state and (found := cycle_from(dep, [*path, dep])):
                return found
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            assert cycle_from(module, [module]) is None


def test_the_installed_packages_import_no_test_or_benchmark_helper():
    found = []
    for package in PACKAGES:
        for file in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                found += [f"{file.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in ("tests", "benchmarks")]
    assert found == []
    assert not (ROOT / "karel" / "mix.py").exists()  # the program mix is a benchmark helper: benchmarks/mix.py
