"""Building an index of the tiny synthetic dataset and comparing stores, shared by the cache tests."""

from pathlib import Path

import numpy as np
import zarr

from mer_pipeline.config import DatasetParams
from mer_pipeline.datasets import ADAPTERS
from mer_pipeline.datasets.index import build_index, index_meta, read_index, write_index
from mer_pipeline.problems import ProblemLog


def index_of(dataset_root: Path, out: Path, repo_params: dict):
    dparams = DatasetParams(adapter="casme2", root=str(dataset_root), fps=200, labels="casme2")
    labels = repo_params.labels["casme2"]
    log = ProblemLog("synthetic")
    records = build_index("synthetic", ADAPTERS.get("casme2"), dparams, labels, log)
    write_index(out, records, log, index_meta("synthetic", dparams, labels))
    return read_index(out)


def assert_same_faces(a: Path, b: Path) -> None:
    ra, rb = zarr.open_group(str(a), mode="r"), zarr.open_group(str(b), mode="r")
    ids = sorted(f"{s}/{c}" for s, g in ra["clips"].groups() for c, _ in g.groups())
    assert ids == sorted(f"{s}/{c}" for s, g in rb["clips"].groups() for c, _ in g.groups()) and ids
    for clip in ids:
        ga, gb = ra[f"clips/{clip}"], rb[f"clips/{clip}"]
        assert dict(ga.attrs) == dict(gb.attrs), clip
        assert dict(ga.attrs)["complete"] is True
        np.testing.assert_array_equal(ga["frames"][...], gb["frames"][...])


def assert_same_modality(a: Path, b: Path) -> None:
    ra, rb = zarr.open_group(str(a), mode="r"), zarr.open_group(str(b), mode="r")
    skip = {"faces_store"}
    attrs_a = {k: v for k, v in ra.attrs.items() if k not in skip}
    attrs_b = {k: v for k, v in rb.attrs.items() if k not in skip}
    assert attrs_a == attrs_b, {
        k: (attrs_a.get(k), attrs_b.get(k)) for k in attrs_a.keys() | attrs_b.keys() if attrs_a.get(k) != attrs_b.get(k)
    }
    assert sorted(n for n, _ in ra.arrays()) == sorted(n for n, _ in rb.arrays())
    assert ra["done"][...].all()
    for name, arr in ra.arrays():
        np.testing.assert_array_equal(arr[...], rb[name][...], err_msg=name)
