"""Code identity is computed: import closures, the package order, DVC deps that cover every stage's closure, and
cache keys and `dvc status` that notice an edit to any file a result depends on."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, copy_repo

from mer_pipeline.identity import PACKAGE_DIR, closure, code_version, imports_between_packages

# Bottom to top: a package may import only from layers below its own.
LAYERS = (
    {"errors"},
    {"identity", "face_mesh", "metrics", "progress", "problems", "registry", "config", "device"},
    {"paths", "scale", "store"},
    {"engine"},
    {"datasets", "synth"},
    {"faces"},
    {"spotting"},
    {"modalities"},
    {"models"},
    {"training"},
    {"evaluation"},
    {"cli"},
)


def rel(paths) -> set[str]:
    return {p.relative_to(REPO).as_posix() for p in paths}


def test_closure_follows_imports_also_inside_functions():
    files = rel(closure("mer_pipeline.modalities.compute", "mer_pipeline.modalities.optical_flow"))
    assert {
        "mer_pipeline/modalities/optical_flow.py",
        "mer_pipeline/modalities/tvl1.py",
        "mer_pipeline/modalities/mapping.py",
        "mer_pipeline/config/modalities.py",
        "mer_pipeline/__init__.py",
        "mer_pipeline/modalities/__init__.py",
    } <= files
    assert "mer_pipeline/modalities/mesti.py" not in files  # one modality's identity is not another's code
    cli = rel(closure(REPO / "stages" / "faces.py"))
    assert "mer_pipeline/faces/task.py" in cli  # imported inside the command function
    assert "mer_pipeline/training/stage.py" not in cli and "mer_pipeline/evaluation/report.py" not in cli


def test_packages_are_ordered_one_way():
    layer = {name: i for i, names in enumerate(LAYERS) for name in names}
    graph = imports_between_packages()
    units = set(graph) - {"mer_pipeline"}
    assert units == set(layer), f"place new packages in LAYERS: {sorted(units ^ set(layer))}"
    upward = [(a, b) for a, targets in graph.items() if a in layer for b in targets if layer[b] >= layer[a]]
    assert upward == [], f"imports that run back up (or sideways): {upward}"


def stages() -> dict[str, dict]:
    """dvc.yaml's stages, each foreach over the params lists expanded with one example item (the deps do not depend
    on which): name -> {cmd, deps, roots}."""
    example = {"${pipeline.datasets}": "synthetic", "${pipeline.experiments}": "synthetic_meganet"}
    out = {}
    for name, spec in yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"].items():
        item = example[spec["foreach"]] if "foreach" in spec else None
        stage = json.loads(json.dumps(spec.get("do", spec)).replace("${item}", item or ""))
        args = stage["cmd"].split()
        roots = [REPO / args[1]]
        if "--modality" in args:  # the stage loads its modality by name (registry.get)
            store = args[args.index("--modality") + 1]
            roots.append(f"mer_pipeline.modalities.{store.partition('-')[0]}")  # mesti-spotted: mesti
        out[name if item is None else f"{name}@{item}"] = {**stage, "roots": roots}
    return out


def test_dvc_yaml_is_what_the_code_writes():
    from mer_pipeline.cli.dvcfile import text

    assert (REPO / "dvc.yaml").read_text() == text(), "dvc.yaml is stale: run python -m mer_pipeline.cli.dvcfile"


@pytest.mark.parametrize("name", sorted(stages()))
def test_dvc_deps_cover_the_stage_closure_exactly(name):
    stage = stages()[name]
    deps = [d for d in stage["deps"] if d.startswith(("mer_pipeline", "stages"))]
    files = rel(closure(*stage["roots"])) | {stage["roots"][0].relative_to(REPO).as_posix()}
    uncovered = sorted(f for f in files if not any(f == d or f.startswith(d.rstrip("/") + "/") for d in deps))
    assert uncovered == [], f"{name}: add to its dvc.yaml deps: {uncovered}"
    data = [d for d in deps if not d.endswith(".py") and (REPO / d).is_file()]  # data files a module reads
    unused = [d for d in deps if d not in data and not any(f == d or f.startswith(d.rstrip("/") + "/") for f in files)]
    assert unused == [], f"{name}: dvc.yaml deps the stage does not run: {unused}"


def _copy_package(dst: Path) -> Path:
    shutil.copytree(PACKAGE_DIR, dst / "mer_pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    return dst / "mer_pipeline"


KEYS = """
import json
from mer_pipeline.config import ModalitiesParams
from mer_pipeline.faces.task import faces_code_version
from mer_pipeline.modalities.keys import modality_key
s = ModalitiesParams(params={"mesti": {"scaling": "signed"}, "optical_flow": {}})
print(json.dumps({"flow": modality_key("optical_flow", "f", s), "mesti": modality_key("mesti", "f", s),
                  "faces": faces_code_version()}))
"""


def _keys(root: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", KEYS],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def test_editing_the_flow_pairing_misses_the_cache_for_flow_only(tmp_path):
    pkg = _copy_package(tmp_path)
    before = _keys(tmp_path)
    source = pkg / "modalities" / "optical_flow.py"
    assert "def flow_batched" in source.read_text()  # where the onset->apex / apex->offset pairs are chosen
    source.write_text(source.read_text().replace("for i in (k.onset, k.apex)", "for i in (k.onset, k.offset)"))
    after = _keys(tmp_path)
    assert after["flow"] != before["flow"]
    assert after["mesti"] == before["mesti"] and after["faces"] == before["faces"]
    (pkg / "faces" / "equalise.py").write_text((pkg / "faces" / "equalise.py").read_text() + "\n# edited\n")
    assert _keys(tmp_path)["faces"] != before["faces"]


def test_code_version_names_libraries_and_files():
    a = code_version("mer_pipeline.modalities.mesti")
    assert a == code_version("mer_pipeline.modalities.mesti") and len(a) == 16
    assert a != code_version("mer_pipeline.modalities.mesti", libraries=("torch",))


@pytest.mark.slow
def test_dvc_status_sees_an_edit_to_the_flow_pairing(tmp_path):
    """In a copy of the repository (no data), editing the flow pairing shows the flow stage's dep as modified,
    and no other modality stage's."""
    copy_repo(tmp_path)

    def changed(stage: str) -> set[str]:
        out = subprocess.run(
            [sys.executable, "-m", "dvc", "status", stage, "--json"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        entries = json.loads(out or "{}").get(stage, [])
        return {
            p for e in entries if isinstance(e, dict) for p, s in e.get("changed deps", {}).items() if s == "modified"
        }

    target = "mer_pipeline/modalities/optical_flow.py"
    assert target not in changed("modalities-optical_flow@synthetic"), "dvc.lock is out of date: run dvc repro"
    path = tmp_path / target
    path.write_text(path.read_text().replace("for i in (k.onset, k.apex)", "for i in (k.onset, k.offset)"))
    assert target in changed("modalities-optical_flow@synthetic")
    assert target not in changed("modalities-mesti@synthetic")
