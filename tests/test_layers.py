"""The firmware's layers, read from the sources with `ast` (imports inside functions count):
the pure core imports nothing of the shell and no I/O, drivers are drivers only, no two
firmware modules import each other (directly or round a loop), and the host may use the
core but the firmware never imports host code. See firmware/dispenser/*/__init__.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
PACKAGE = FIRMWARE / "dispenser"

# Builtins the core may use: none of them reads a clock, a file, a pin or a socket.
CORE_BUILTINS = {"micropython", "struct", "json", "hashlib", "binascii", "sys", "gc"}
PLATFORM = {"dispenser", "dispenser.compat"}  # the platform layer everyone may import
HOST_PACKAGES = {"pillctl"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(FIRMWARE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def firmware_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = firmware_modules()


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, at module level or inside a function: `from a import b`
    counts as a.b when that is a firmware module, else as a."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
    return found


GRAPH = {name: imports_of(path) for name, path in MODULES.items()}


def layer(name: str) -> str:
    if name.startswith("dispenser.core"):
        return "core"
    if name.startswith("dispenser.drivers"):
        return "drivers"
    if name in PLATFORM or name == "dispenser.cpython_shim":
        return "platform"
    return "shell"


def test_the_walk_sees_the_layers_and_lazy_imports():
    # guards the guard: each layer is found, and an import inside a function is seen
    assert {layer(name) for name in MODULES} == {"core", "drivers", "platform", "shell"}
    assert "dispenser.core.engine" in GRAPH["dispenser.controller"]
    assert "asyncio" in GRAPH["dispenser.drivers.button"]


@pytest.mark.parametrize("name", sorted(n for n in MODULES if layer(n) == "core"))
def test_the_core_imports_only_the_core_the_platform_and_pure_builtins(name):
    bad = {
        dep
        for dep in GRAPH[name]
        if not (dep.startswith("dispenser.core") or dep in PLATFORM or dep in CORE_BUILTINS)
    }
    assert not bad, f"{MODULES[name]} imports {sorted(bad)}: the core is pure"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if layer(n) == "drivers"))
def test_drivers_import_only_the_core_the_platform_and_timing(name):
    bad = {
        dep
        for dep in GRAPH[name]
        if dep.startswith("dispenser")
        and not (dep.startswith("dispenser.core") or dep in PLATFORM or dep == "dispenser.timing")
    }
    # a driver gets its pins from the board; it never opens hardware or files by itself
    bad |= GRAPH[name] & {"machine", "board", "os", "time"}
    assert not bad, f"{MODULES[name]} imports {sorted(bad)}: drivers are drivers only"


def test_the_firmware_never_imports_host_code():
    bad = {
        (name, dep)
        for name, deps in GRAPH.items()
        for dep in deps
        if dep.split(".")[0] in HOST_PACKAGES
    }
    assert not bad


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import loop among the firmware modules, as a path that ends where it began."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if dep not in graph:
                continue
            if state.get(dep) == 1:
                return path[path.index(dep) :] + [dep]
            if dep not in state and (loop := visit(dep)):
                return loop
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (loop := visit(node)):
            return loop
    return None


def test_find_cycle_finds_a_lazy_loop_and_passes_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycles_between_firmware_modules():
    # a package's __init__ importing its own submodules is not a loop (net/__init__ starts
    # net.publisher); everything else is
    graph = {
        name: {
            dep
            for dep in deps
            if not (MODULES[name].name == "__init__" and dep.startswith(name + "."))
        }
        for name, deps in GRAPH.items()
    }
    graph = {name: {d for d in deps if d != name} for name, deps in graph.items()}
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph) or [])}"


# Of the shell, the host reads only the formats of the files on the device's flash (the
# calibration and self-test files; the sim builds a board's log and schedule files).
HOST_MAY_READ = {"dispenser.setupfiles", "dispenser.logstore", "dispenser.schedstore"}


def test_the_host_imports_the_core_and_the_flash_file_formats_only():
    bad = set()
    for path in (ROOT / "host" / "pillctl").rglob("*.py"):
        for dep in imports_of(path):
            if dep.startswith("dispenser") and layer(dep) == "shell" and dep not in HOST_MAY_READ:
                bad.add((str(path.relative_to(ROOT)), dep))
    assert not bad, f"host code reaches into the device's shell: {sorted(bad)}"
