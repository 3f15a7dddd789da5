import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/layouts.py helpers

from mer_pipeline.config import load_params  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_params() -> dict:
    """The repository's params.yaml: tests use the shipped label tables, never copies of them."""
    return load_params(REPO / "params.yaml")


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
