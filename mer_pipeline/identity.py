"""Which code made a result, computed rather than listed: the import closure of a module inside mer_pipeline.

The closure is read from the source (every `import` and `from ... import` anywhere in a file, also inside functions,
so lazily imported code counts), never by importing it. Importing `mer_pipeline.a.b` runs `mer_pipeline/__init__.py`
and `mer_pipeline/a/__init__.py` first, so those are in the closure too. Code loaded by name at run time (a modality
found through the registry) is passed as an extra root by the caller that loads it.

`code_version` hashes the closure's files (their paths relative to the package and their bytes) plus the versions of
the libraries that shape the result: it feeds the shared-cache keys, and the DVC test checks every stage's deps cover
its entry point's closure.
"""

import ast
import hashlib
from functools import cache
from importlib.metadata import version
from pathlib import Path

PACKAGE = "mer_pipeline"
PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def module_file(name: str) -> Path | None:
    """The source file of module `name` inside the package (its `__init__.py` for a package), or None."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    parts = name.split(".")[1:]
    base = PACKAGE_DIR.joinpath(*parts)
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def module_name(path: Path) -> str | None:
    """The dotted name of a file inside the package, or None for a file outside it (a stage script)."""
    path = Path(path).resolve()
    try:
        rel = path.relative_to(REPO_DIR)
    except ValueError:
        return None
    if rel.parts[0] != PACKAGE:
        return None
    parts = list(rel.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_names(path: Path) -> set[str]:
    """Dotted names a file imports from the package: `import a.b`, `from a import b` (b may be a module)."""
    tree = ast.parse(Path(path).read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")}


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


@cache
def _closure(roots: tuple[str, ...]) -> tuple[Path, ...]:
    seen: set[Path] = set()
    todo: list[Path] = []
    for root in roots:
        if root.endswith(".py"):
            todo.append(Path(root).resolve())
        else:
            todo += [f for n in _with_parents(root) if (f := module_file(n))]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imported_names(path):
            todo += [f for n in _with_parents(name) if (f := module_file(n)) and f not in seen]
    return tuple(sorted(seen))


def closure(*roots: str | Path) -> list[Path]:
    """Every package file that runs when the roots run (module names, or paths of .py files), sorted."""
    if not roots:
        raise ValueError("closure needs at least one root")
    return list(_closure(tuple(str(r) for r in roots)))


def code_version(*roots: str | Path, libraries: tuple[str, ...] = ()) -> str:
    """sha256 (16 hex) of the roots' closure (relative path and bytes of each file) and the named libraries'
    installed versions."""
    h = hashlib.sha256()
    for lib in libraries:
        h.update(f"{lib}=={version(lib)}\n".encode())
    for path in closure(*roots):
        h.update(path.relative_to(REPO_DIR).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def imports_between_packages() -> dict[str, set[str]]:
    """For the layering test: subpackage (or top-level module) -> the subpackages/modules it imports."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        name = module_name(path)
        unit = name.split(".")[1] if name and name != PACKAGE else PACKAGE
        targets = graph.setdefault(unit, set())
        for imported in _imported_names(path):
            parts = imported.split(".")
            if len(parts) > 1 and ((PACKAGE_DIR / parts[1]).is_dir() or module_file(".".join(parts[:2]))):
                targets.add(parts[1])
    for unit, targets in graph.items():
        targets.discard(unit)
    return graph


def dvc_deps(*roots: str | Path) -> list[str]:
    """The closure as DVC deps relative to the repository: a whole folder where the closure holds all of its
    Python files, else the files. Root scripts (stages/*.py) are included."""
    files = {p.relative_to(REPO_DIR).as_posix() for p in closure(*roots)}
    files |= {Path(r).resolve().relative_to(REPO_DIR).as_posix() for r in roots if str(r).endswith(".py")}
    deps = set()
    for f in files:
        folder = PACKAGE_DIR.joinpath(*Path(f).parts[1:-1])
        whole = (
            f.startswith(PACKAGE + "/")
            and len(Path(f).parts) > 2
            and all(p.relative_to(REPO_DIR).as_posix() in files for p in folder.rglob("*.py"))
        )
        deps.add(folder.relative_to(REPO_DIR).as_posix() if whole else f)
    return sorted(deps)


if __name__ == "__main__":  # python -m mer_pipeline.identity stages/faces.py [mer_pipeline.modalities.mesti ...]
    import sys

    print("\n".join(f"- {d}" for d in dvc_deps(*sys.argv[1:])))
