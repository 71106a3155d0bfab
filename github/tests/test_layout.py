"""The code's layout: which module may import which, read from the source (every import statement, those inside
functions too), so that a cycle or an import against the layers fails here and not in a reviewer's head."""
import ast
import itertools
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("git_o_matic_9k", "github", "github_simulator", "benchmarks", "reliability")
# The crawl's layers, top to bottom: a task asks admission, admission asks the client's ledger, the client
# talks to GitHub and keeps its ledger, the ledger writes models. No module reaches up this list.
LAYERS = ["github.tasks", "github.admission", "github.client", "github.throttle", "github.models"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.AST, package: str, modules) -> set:
    """The modules every import statement of `tree` (a module of `package`) imports, as import-linter reads
    them: `from a import b` is a.b when that is a module of `modules`, else a (a name a's __init__ defines);
    `from . import b` is resolved against `package`."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            found |= {f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules else module
                      for alias in node.names}
    return found & set(modules)


@pytest.fixture(scope="module")
def imports() -> nx.DiGraph:
    """Module -> module it imports, over the project's modules but tests and migrations."""
    sources = {_module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
               if not {"tests", "migrations"} & set(path.relative_to(ROOT).parts)}
    graph = nx.DiGraph()
    graph.add_nodes_from(sources)
    for module, path in sources.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        graph.add_edges_from((module, name) for name in
                             _imported(ast.parse(path.read_text(encoding="utf-8")), package, sources) - {module})
    assert graph.number_of_edges() > 100  # the walk found the imports (a broken walk would pass vacuously)
    return graph


def test_no_import_cycle(imports):
    cycles = list(nx.simple_cycles(imports))
    assert not cycles


def test_the_crawl_depends_one_way_down_its_layers(imports):
    assert all(imports.has_node(layer) for layer in LAYERS)
    for upper, lower in itertools.pairwise(LAYERS):
        assert nx.has_path(imports, upper, lower), f"{upper} no longer uses {lower}: LAYERS is out of date"
    upward = [(LAYERS[low], LAYERS[high]) for high in range(len(LAYERS)) for low in range(high + 1, len(LAYERS))
              if nx.has_path(imports, LAYERS[low], LAYERS[high])]
    assert not upward


def test_the_crawler_app_imports_neither_the_project_nor_the_simulator_nor_the_scripts(imports):
    crawler = [module for module in imports if module.split(".")[0] == "github"]
    outside = {(module, target) for module in crawler for target in imports.successors(module)
               if target.split(".")[0] != "github"}
    assert not outside


def test_the_simulator_stands_alone(imports):
    """It plays GitHub: it imports nothing of the service it answers."""
    simulator = [module for module in imports if module.split(".")[0] == "github_simulator"]
    outside = {(module, target) for module in simulator for target in imports.successors(module)
               if target.split(".")[0] != "github_simulator"}
    assert not outside
