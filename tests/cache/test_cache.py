import io
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from mer_pipeline.cli.common import cache_from_environment, load
from mer_pipeline.config import CacheParams, FacesParams
from mer_pipeline.datasets.base import ClipRecord
from mer_pipeline.errors import UserError
from mer_pipeline.faces.task import faces_key
from mer_pipeline.store.cache import TMP_PREFIX, Cache, content_key, decode, encode

REPO_PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"
ARRAYS = {"frames": np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3), "m": np.eye(2, 3)}


def record(**kw):
    base = dict(
        dataset="d",
        subject="sub01",
        clip_id="sub01/EP01",
        frames=("a.jpg", "b.jpg"),
        frame_numbers=(1, 2),
        n_frames=2,
        onset=1,
        apex=2,
        offset=2,
        apex_source="annotated",
        emotion="happiness",
        label3=1,
        label3_name="positive",
        label5=1,
        label5_name="happiness",
        fps=200.0,
    )
    return ClipRecord(**{**base, **kw})


def test_keys_cover_everything_that_determines_content():
    k = faces_key(record(), "abc", FacesParams())
    assert k == faces_key(record(), "abc", FacesParams())
    assert k == faces_key(record(label3=0, emotion="disgust"), "abc", FacesParams())  # labels are not content
    assert k == faces_key(record(), "abc", FacesParams(out="elsewhere"))  # where it is written is not content
    for other in (
        faces_key(record(clip_id="sub01/EP02"), "abc", FacesParams()),
        faces_key(record(), "abd", FacesParams()),
        faces_key(record(apex=1), "abc", FacesParams()),
        faces_key(record(), "abc", FacesParams(clahe_clip=2.5)),
        faces_key(record(), "abc", FacesParams(size=112)),
    ):
        assert other != k
    assert content_key("a", {"x": 1}) != content_key("b", {"x": 1})


def test_round_trip_and_atomic_files(tmp_path):
    cache = Cache(str(tmp_path / "c"))
    assert cache.get("faces", "k" * 64) is None
    cache.put("faces", "k" * 64, ARRAYS, {"clip_id": "x"})
    arrays, meta = cache.get("faces", "k" * 64)
    np.testing.assert_array_equal(arrays["frames"], ARRAYS["frames"])
    assert meta == {"clip_id": "x"} and [e.key for e in cache.entries()] == ["k" * 64]
    assert not any(p.name.startswith(TMP_PREFIX) for p in (tmp_path / "c").rglob("*"))


def test_corruption_is_detected_and_never_served(tmp_path):
    cache = Cache(str(tmp_path / "c"))
    for key in ("a" * 64, "b" * 64):
        cache.put("modality", key, ARRAYS, {})
    path = tmp_path / "c" / "v1" / "modality" / "aa" / f"{'a' * 64}.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF  # one flipped byte inside the array data
    path.write_bytes(bytes(data))
    assert cache.get("modality", "a" * 64) is None  # a corrupt entry reads as a miss and gets recomputed
    result = cache.verify()
    assert result["checked"] == 2 and [b["key"] for b in result["corrupt"]] == ["a" * 64]
    swapped = tmp_path / "c" / "v1" / "modality" / "bb" / f"{'b' * 64}.npz"
    os.replace(swapped, swapped.with_name("c" * 64 + ".npz"))  # an entry under another key
    assert any("holds key" in b["problem"] for b in cache.verify()["corrupt"])


def test_unfinished_writes_are_invisible_and_collected(tmp_path):
    cache = Cache(str(tmp_path / "c"))
    cache.put("faces", "a" * 64, ARRAYS, {})
    leftover = tmp_path / "c" / "v1" / "faces" / "aa" / f"{TMP_PREFIX}{'a' * 64}-dead"
    leftover.write_bytes(encode("faces", "a" * 64, ARRAYS, {})[:100])
    assert [e.key for e in cache.entries()] == ["a" * 64] and cache.verify()["partial"] == [str(leftover)]
    assert cache.gc(older_than_s=3600) == []  # a live writer's file is young
    old = time.time() - 7200
    os.utime(leftover, (old, old))
    assert cache.gc(older_than_s=3600) == [str(leftover)] and not leftover.exists()


def test_nothing_is_unpickled(tmp_path):
    buf = io.BytesIO()
    meta = json.dumps({"kind": "faces", "key": "k", "arrays": {}, "meta": {}}).encode()
    np.savez(buf, __meta__=np.frombuffer(meta, np.uint8), evil=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="unreadable entry"):
        decode(buf.getvalue(), "k")


def test_environment_overrides_params():
    env = {
        "MER_PIPELINE_CACHE": "s3://lab/cache",
        "MER_PIPELINE_CACHE_OPTIONS": '{"endpoint_url": "http://127.0.0.1:9"}',
    }
    assert cache_from_environment(CacheParams("/nfs/cache"), env) == CacheParams(
        "s3://lab/cache", {"endpoint_url": "http://127.0.0.1:9"}
    )
    assert cache_from_environment(CacheParams("/nfs/cache", {"a": 1}), {}) == CacheParams("/nfs/cache", {"a": 1})
    with pytest.raises(UserError, match="not valid JSON"):
        cache_from_environment(CacheParams(), {"MER_PIPELINE_CACHE_OPTIONS": "{bad"})
    with pytest.raises(UserError, match="must be a JSON object"):
        cache_from_environment(CacheParams(), {"MER_PIPELINE_CACHE_OPTIONS": "[1]"})


def test_commands_read_the_cache_from_the_environment(monkeypatch):
    monkeypatch.setenv("MER_PIPELINE_CACHE", "/tmp/elsewhere")
    assert load(REPO_PARAMS).cache.url == "/tmp/elsewhere"
    with pytest.raises(UserError, match="no shared cache configured"):
        Cache("")


def test_s3_round_trip_on_a_loopback_server(tmp_path):
    """A real S3-compatible server (moto in server mode) on 127.0.0.1, reached through s3fs."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        creds = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}
        boto3.client("s3", endpoint_url=endpoint, **creds).create_bucket(Bucket="lab")
        options = {
            "endpoint_url": endpoint,
            "key": "test",
            "secret": "test",
            "client_kwargs": {"region_name": "us-east-1"},
        }
        cache = Cache("s3://lab/mer-cache", options)
        cache.put("faces", "f" * 64, ARRAYS, {"clip_id": "sub01/EP01"})
        other = Cache("s3://lab/mer-cache", options)  # a second member
        arrays, meta = other.get("faces", "f" * 64)
        np.testing.assert_array_equal(arrays["m"], ARRAYS["m"])
        assert meta == {"clip_id": "sub01/EP01"}
        assert [e.key for e in other.entries()] == ["f" * 64]
        assert other.verify() == {"checked": 1, "corrupt": [], "partial": []}
        assert other.get("faces", "0" * 64) is None
        assert other.gc(0) == []
    finally:
        server.stop()
