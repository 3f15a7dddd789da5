"""`dvc repro` on a lab's own datasets, chosen in params.yaml alone: two datasets in their distributed layouts (CASME II
and SMIC-HS, real face frames from the synthetic generator), one composite experiment over both, in a copy of the
repository. dvc.yaml is never edited; a second `dvc status` is clean; a changed frame file reruns only its dataset;
a changed modality store reruns the training that reads it."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
import yaml
from conftest import copy_repo

from mer_pipeline.synth.generate import read_ground_truth

SMIC_FOLDER = {"happiness": "positive", "surprise": "surprise", "disgust": "negative", "repression": "negative"}


def as_smic(synthetic: Path, root: Path) -> None:
    """The synthetic clips in SMIC-HS's layout: SMIC_all_raw/HS/s<n>/micro/<emotion>/s<n>_<em>_<k>/image<6>.bmp."""
    for k, (clip_id, row) in enumerate(sorted(read_ground_truth(synthetic).items())):
        subject = int(clip_id.split("/")[0].removeprefix("sub"))
        emotion = SMIC_FOLDER[row["emotion"]]
        folder = root / "SMIC_all_raw" / "HS" / f"s{subject}" / "micro" / emotion / f"s{subject}_{emotion[:2]}_{k:02d}"
        folder.mkdir(parents=True)
        frames = sorted((synthetic / "CASME2-RAW" / clip_id).iterdir(), key=lambda p: int(p.stem.removeprefix("img")))
        for n, frame in enumerate(frames):
            cv2.imwrite(str(folder / f"image{46400 + n:06d}.bmp"), cv2.imread(str(frame)))


def lab_params(repo: Path, casme2: Path, smic: Path) -> None:
    """What a lab edits: roots, the datasets and the experiment group to build; small sizes to keep the test short."""
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["datasets"]["casme2"]["root"] = str(casme2)
    params["datasets"]["smic-hs"]["root"] = str(smic)
    params["pipeline"] = {"datasets": ["casme2", "smic-hs"], "experiments": ["lab_composite"]}
    params["experiments"]["lab_composite"] = {
        "model": "meganet",
        "modalities": ["mesti"],
        "datasets": ["casme2", "smic-hs"],
        "protocol": "loso",
        "classes": 3,
    }
    params["faces"]["size"] = 96
    params["modalities"]["size"] = 48
    params["modalities"]["params"]["optical_flow"].update(scales=2, warps=1, iterations=3, coarse_iterations=2)
    params["train"]["profiles"]["cpu"] = {"epochs": 1, "input_size": 32, "seeds": [0]}
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def dvc(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(repo),
    }
    done = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"dvc {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def changed_stages(repo: Path) -> set[str]:
    return set(json.loads(dvc(repo, "status", "--json") or "{}"))


@pytest.mark.slow
def test_dvc_repro_builds_a_labs_two_datasets_from_params_alone(tiny_synth, tmp_path):
    repo, casme2, smic = tmp_path / "repo", tmp_path / "CASME2", tmp_path / "SMIC"
    shutil.copytree(tiny_synth, casme2)  # the synthetic dataset is written in CASME II's layout and sheet
    as_smic(tiny_synth, smic)
    copy_repo(repo)
    dvc_yaml = (repo / "dvc.yaml").read_bytes()
    lab_params(repo, casme2, smic)

    dvc(repo, "repro")

    for dataset in ("casme2", "smic-hs"):
        stores = sorted(p.name for p in (repo / "data" / "modalities" / dataset).glob("*.zarr"))  # not the .locks
        assert len(stores) == 8 and "mesti.zarr" in stores and "optical_flow.zarr" in stores
        assert (repo / "reports" / "preview" / f"{dataset}.png").is_file()
    assert not (repo / "data" / "modalities" / "synthetic").exists()  # not selected, not built
    results = json.loads((repo / "reports" / "experiments" / "lab_composite" / "results.json").read_text())
    assert results["config"]["datasets"] == ["casme2", "smic-hs"]
    assert {fold.split("/")[0] for fold in results["per_fold"]} == {"casme2", "smic-hs"}  # composite LOSO
    assert "lab_composite" in (repo / "reports" / "report" / "report.md").read_text()
    assert (repo / "dvc.yaml").read_bytes() == dvc_yaml
    assert changed_stages(repo) == set()

    frame = next((smic / "SMIC_all_raw" / "HS").rglob("image046401.bmp"))
    cv2.imwrite(str(frame), 255 - cv2.imread(str(frame)))  # a changed frame file of one dataset
    changed = changed_stages(repo)
    assert "index@smic-hs" in changed and "faces@smic-hs" in changed
    assert not any("casme2" in s for s in changed)

    # a changed byte in a store the group reads reruns its training, once the inputs manifest is rebuilt
    assert "train@lab_composite" not in changed
    store = repo / "data" / "modalities" / "casme2" / "mesti.zarr"
    chunk = next(p for p in sorted(store.rglob("*")) if p.is_file() and p.name != "zarr.json")
    chunk.write_bytes(chunk.read_bytes() + b"\0")
    dvc(repo, "repro", "--single-item", "inputs@lab_composite")
    assert "train@lab_composite" in changed_stages(repo)
