"""The import graph: hlx_formats never imports hlx_moe, and neither package imports in a
circle (imports inside functions included): codecs <- the task layer <- hlx_moe."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _from_module(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The full name of the module a ``from ... import`` statement of ``importer`` reads."""
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(package: str) -> dict[str, set[str]]:
    """Module -> the modules it imports (anywhere in it), by full name."""
    paths = {_module_name(path): path for path in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                module = _from_module(node, name, is_package)
                submodules = {f"{module}.{alias.name}" for alias in node.names} & (set(paths) | _other_modules())
                targets.update(submodules or {module})
                if len(submodules) < len(node.names):
                    targets.add(module)  # names that are not modules come from the module itself
        graph[name] = {target for target in targets if target != name}
    return graph


def _other_modules() -> set[str]:
    return {_module_name(path) for package in ("hlx_formats", "hlx_moe") for path in (ROOT / package).rglob("*.py")}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    inside = {name: {target for target in targets if target in graph} for name, targets in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        stack.append(name)
        for target in sorted(inside[name]):
            if state.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[name] = 2
        return None

    for name in sorted(inside):
        if name not in state and (found := visit(name)):
            return found
    return None


def test_the_codec_package_never_imports_the_model_package():
    graph = import_graph("hlx_formats")
    offenders = {name: sorted(t for t in targets if t.split(".")[0] == "hlx_moe") for name, targets in graph.items()}
    assert not {name: targets for name, targets in offenders.items() if targets}


@pytest.mark.parametrize("package", ["hlx_formats", "hlx_moe"])
def test_no_import_circle(package):
    # A package's __init__ re-exports its modules; a module importing names from the package
    # itself (not from the module that defines them) would close a circle through it.
    assert _cycle(import_graph(package)) is None


def test_the_checks_see_a_circle_and_a_deferred_import():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    graph = import_graph("hlx_formats")
    assert "hlx_formats.plugins" in graph["hlx_formats.api"]  # a module-level import is seen
    assert "hlx_formats.formats" in graph["hlx_formats.requests"]
    assert "hlx_formats.demo" in graph["hlx_formats.cli"]  # imported inside a function: seen too


def _imported_names() -> dict[str, set[str]]:
    """Module -> the names that other modules of the repository (tests aside) import from it
    with ``from X import name``, X an hlx_formats or hlx_moe module (submodules left out)."""
    modules = _other_modules()
    found: dict[str, set[str]] = {}
    for package in ("hlx_formats", "hlx_moe", "benchmarks"):
        for path in (ROOT / package).rglob("*.py"):
            name = _module_name(path)
            is_package = path.name == "__init__.py"
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if not isinstance(node, ast.ImportFrom):
                    continue
                module = _from_module(node, name, is_package)
                if module in modules:
                    names = {alias.name for alias in node.names if f"{module}.{alias.name}" not in modules}
                    found.setdefault(module, set()).update(names)
    return found


def test_all_lists_every_name_other_modules_import():
    # __all__ is the contract: a name another module imports is public (listed) or private (_name).
    import importlib

    offenders = {}
    for module, names in sorted(_imported_names().items()):
        exported = set(getattr(importlib.import_module(module), "__all__", ()))
        missing = sorted(name for name in names if not name.startswith("_") and name not in exported)
        if missing:
            offenders[module] = missing
    assert not offenders


#: The mixture's stages, in the order data flows through them (docs/architecture.md): a
#: stage imports only from the stages before it; the command, the demo and the package's
#: own ``__init__`` sit above them all.
MOE_STAGES = ("model", "corpus", "training", "decoding", "evaluation", "serving")


def test_each_stage_of_the_mixture_imports_only_earlier_stages():
    def stage(module: str) -> str | None:
        parts = module.split(".")
        return parts[1] if len(parts) >= 2 and parts[0] == "hlx_moe" and parts[1] in MOE_STAGES else None

    offenders = []
    for name, targets in import_graph("hlx_moe").items():
        if (own := stage(name)) is None:
            continue
        for target in targets:
            other = stage(target)
            if other is not None and MOE_STAGES.index(other) > MOE_STAGES.index(own):
                offenders.append(f"{name} -> {target}")
    assert not offenders
    assert {path.name for path in (ROOT / "hlx_moe").iterdir() if path.is_dir() and (path / "__init__.py").exists()} == set(MOE_STAGES)


def test_the_wheel_lists_every_package():
    """``[tool.setuptools] packages`` names packages one by one: a subpackage left out of it
    is missing from the wheel (and from the installed command) though every test here passes."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["packages"])
    found = {
        _module_name(path.parent / "__init__.py")
        for package in ("hlx_formats", "hlx_moe")
        for path in (ROOT / package).rglob("__init__.py")
    }
    assert found <= listed, sorted(found - listed)
