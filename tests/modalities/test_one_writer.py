"""One writer per store, and readers use only a store's own samples: a second run on a store being written is
refused in one line, a killed holder frees the store, and a sample written for other params is never read or
published as the store's."""

import os
import signal
import subprocess
import sys

import pytest
from test_modality_task import PARAMS, settings

from mer_pipeline.config import ModalitiesParams
from mer_pipeline.errors import UserError
from mer_pipeline.modalities.keys import check_current, modality_key, stale_samples
from mer_pipeline.modalities.preview import write_preview
from mer_pipeline.modalities.task import push_modality, run_modality
from mer_pipeline.store import modality as modality_store
from mer_pipeline.store.cache import Cache
from mer_pipeline.store.opening import open_writable
from mer_pipeline.training.data import load_samples

HOLD = """
import sys, time
from pathlib import Path
from mer_pipeline.store.lock import holding
with holding(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(120)
"""


def test_a_store_being_written_is_refused_to_a_second_run_until_its_holder_dies(tiny_faces, tmp_path):
    out = tmp_path / "mesti.zarr"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match=rf"mesti.zarr: being written by another run \(pid {holder.pid} on "):
            run_modality("mesti", tiny_faces, out, settings())
        assert not out.exists()  # refused before anything was laid out
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    assert run_modality("mesti", tiny_faces, out, settings())["computed"] == 8  # the kernel released the lock


def test_a_sample_written_for_other_params_is_never_read_or_published_as_the_stores(tiny_faces, tmp_path):
    stores = settings(out=str(tmp_path / "modalities"))
    out = tmp_path / "modalities" / "synthetic" / "mesti.zarr"
    run_modality("mesti", tiny_faces, out, stores)
    assert stale_samples(out) == []
    # a run with other params (its own lock bypassed) overwrites sample 2 with its own result
    other = ModalitiesParams(size=64, device="cpu", params={**PARAMS, "mesti": {"scaling": "unit"}})
    root = open_writable(out)
    facts = modality_store.sample_facts(root)
    onset, apex, offset = (int(v) for v in facts.key_frames[2])
    key = modality_key("mesti", facts.sources[2], other, apex - onset)
    assert key != facts.keys[2]
    modality_store.write_sample(root, 2, modality_store.read_sample(root, 2), key, (onset, apex, offset))
    clip = facts.clip_ids[2]

    assert stale_samples(out) == [clip]
    for read in (
        lambda: check_current(out),
        lambda: load_samples(stores, ["synthetic"], ["mesti"], "label3", 64),
        lambda: write_preview(stores, "synthetic", ["mesti"], tmp_path / "preview.png"),
    ):
        with pytest.raises(UserError, match=rf"mesti.zarr: 1 sample \({clip}\) was written for other params"):
            read()
    pushed = push_modality("mesti", out, Cache(str(tmp_path / "cache")))
    assert (pushed["pushed"], pushed["stale"]) == (7, 1)
    assert not Cache(str(tmp_path / "cache")).has("modality", key)

    again = run_modality("mesti", tiny_faces, out, stores)  # the store's own params: that sample is computed anew
    assert (again["computed"], again["kept"]) == (1, 7)
    assert stale_samples(out) == []
    assert len(load_samples(stores, ["synthetic"], ["mesti"], "label3", 64).clip_ids) > 0
