import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/layouts.py helpers

from mer_pipeline.config import Params  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def copy_repo(dst: Path) -> None:
    """The repository's files (tracked and not ignored; no data, no .venv) copied into `dst`, a fresh git repo."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for f in (f for f in files if (REPO / f).is_file()):
        (dst / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / f, dst / f)
    subprocess.run(["git", "init", "-q"], cwd=dst, check=True)


@pytest.fixture(scope="session")
def repo_params() -> Params:
    """The repository's params.yaml: tests use the shipped label tables, never copies of them."""
    return Params.load(REPO / "params.yaml")


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


TINY_SYNTH = {"subjects": 2, "clips_per_class": 1, "frames": 10, "image_size": 192, "seed": 3}


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory) -> Path:
    """A tiny synthetic dataset (2 subjects x 4 classes, 10 frames, 192 px), generated once per test session."""
    from mer_pipeline.config import SynthParams
    from mer_pipeline.synth.generate import generate

    out = tmp_path_factory.mktemp("synth") / "synthetic"
    generate(SynthParams(out=str(out), **TINY_SYNTH), out)
    return out


@pytest.fixture(scope="session")
def landmarker():
    from mer_pipeline.faces.landmarks import MediapipeLandmarker

    lm = MediapipeLandmarker()
    yield lm
    lm.close()


@pytest.fixture(scope="session")
def tiny_faces(tiny_synth, tmp_path_factory, repo_params, landmarker) -> Path:
    """Faces store (128 px, CLAHE) of the tiny synthetic dataset."""
    from mer_pipeline.config import DatasetParams, FacesParams
    from mer_pipeline.datasets import ADAPTERS
    from mer_pipeline.datasets.index import build_index, index_meta, read_index, write_index
    from mer_pipeline.faces.task import run_faces
    from mer_pipeline.problems import ProblemLog

    out = tmp_path_factory.mktemp("faces")
    dparams = DatasetParams(adapter="casme2", root=str(tiny_synth), fps=200, labels="casme2")
    labels = repo_params.labels["casme2"]
    log = ProblemLog("synthetic")
    records = build_index("synthetic", ADAPTERS.get("casme2"), dparams, labels, log)
    write_index(out / "index", records, log, index_meta("synthetic", dparams, labels))
    records, meta = read_index(out / "index")
    run_faces(records, tiny_synth, out / "faces.zarr", FacesParams(size=128), meta, landmarker, log)
    assert len(log) == 0
    return out / "faces.zarr"
