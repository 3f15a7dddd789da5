import copy

import pytest
import yaml
from conftest import REPO

from mer_pipeline.config import FacesParams, FlowParams, MapParams, Params, build, params_hash, read_yaml
from mer_pipeline.errors import UserError


@pytest.fixture
def raw() -> dict:
    return copy.deepcopy(yaml.safe_load((REPO / "params.yaml").read_text()))


def test_repo_params_build(repo_params):
    assert repo_params.faces.size == 224
    assert repo_params.synth.classes == ("happiness", "surprise", "disgust", "repression")
    samm = repo_params.labels["samm"]
    assert [e for e, c in samm.five_class.items() if c == "other"] == ["other", "disgust", "fear", "sadness"]
    assert repo_params.dataset("smic-hs").fps == 100
    assert isinstance(repo_params.modalities.params["optical_flow"], FlowParams)
    assert isinstance(repo_params.modalities.params["mesti"], MapParams)


def test_unknown_key_fails_loudly():
    with pytest.raises(UserError, match=r"params faces: unknown key\(s\) sise"):
        build(FacesParams, {"sise": 3}, "faces")


def test_wrong_type_and_bad_choice():
    with pytest.raises(UserError, match="faces.size: expected int"):
        build(FacesParams, {"size": "big"}, "faces")
    with pytest.raises(UserError, match="faces.equalise must be one of none, global, clahe"):
        build(FacesParams, {"equalise": "hist"}, "faces")
    with pytest.raises(UserError, match=r"faces.registration_stride must be in \[0, 8\], got 9"):
        build(FacesParams, {"registration_stride": 9}, "faces")


def test_mistakes_anywhere_fail_when_params_are_loaded(raw):
    def fails(mutate, pattern):
        data = copy.deepcopy(raw)
        mutate(data)
        with pytest.raises(UserError, match=pattern):
            Params.from_dict(data)

    fails(
        lambda d: d["modalities"]["params"]["optical_flow"].update(iteratons=3),
        r"params modalities.params.optical_flow: unknown key\(s\) iteratons",
    )
    fails(
        lambda d: d["modalities"]["params"]["mesti"].update(scaling="log"),
        r"params modalities.params.mesti: scaling must be unit, signed or positive",
    )
    fails(lambda d: d["modalities"]["params"].pop("mesti"), "modalities.params has no entry for 'mesti'")
    fails(lambda d: d["labels"]["casme2"]["three_class"].update(joy="happy"), "not declared class names")
    fails(lambda d: d["labels"]["casme2"]["three_class"].update(joy="positive"), "mapped emotions .*joy")
    fails(lambda d: d["experiments"]["table3"].update(protocol="kfold"), "protocol must be one of loso, holdout")
    fails(lambda d: d["datasets"]["samm"].update(labels="nope"), "datasets.samm: no label table 'nope'")
    fails(lambda d: d.update(trian={}), r"unknown section\(s\) trian")


def test_unknown_dataset_and_experiment(repo_params):
    with pytest.raises(UserError, match="unknown dataset 'casme4'"):
        repo_params.dataset("casme4")
    with pytest.raises(UserError, match="unknown experiment 'table9'"):
        repo_params.experiments_named("table9")
    group, table = repo_params.experiments_named("table3-casme2")
    assert group == "table3" and list(table) == ["table3-casme2"]


def test_params_file_errors(tmp_path):
    with pytest.raises(UserError, match="params file not found"):
        read_yaml(tmp_path / "params.yaml")
    (tmp_path / "p.yaml").write_text("a: [")
    with pytest.raises(UserError, match="not valid YAML"):
        Params.load(tmp_path / "p.yaml")


def test_params_hash_changes_with_any_value():
    assert params_hash(FacesParams()) == params_hash(FacesParams())
    assert params_hash(FacesParams()) != params_hash(FacesParams(clahe_clip=3.0))


@pytest.mark.parametrize(
    "path, value, pattern",
    [
        ("faces.clahe_tiles", 0, r"params faces.clahe_tiles must be in \[1, 64\], got 0"),  # was SIGFPE in OpenCV
        ("faces.clahe_clip", -1, r"faces.clahe_clip must be in \(0, 100\]"),
        ("faces.min_detection_confidence", 5, r"faces.min_detection_confidence must be in \[0, 1\], got 5"),
        ("modalities.params.optical_flow.theta", 0, r"optical_flow.theta must be in \(0, 10\], got 0"),
        ("modalities.params.optical_flow.tau", -1, r"optical_flow.tau must be in \(0, 0.25\]"),
        ("modalities.params.optical_flow.flow_max_px", 0, r"optical_flow.flow_max_px must be in \(0, 100\]"),
        ("modalities.size", 0, r"modalities.size must be in \[16, 1024\]"),
        ("train.batch_size", 0, r"train.batch_size must be in \[1, 4096\], got 0"),
        ("train.test_fraction", 2, r"train.test_fraction must be in \(0, 1\), got 2"),
        ("train.lr", float("nan"), r"train.lr must be in \(0, 10\], got nan"),
        ("train.profiles.cpu.input_size", 0, r"train.profiles.cpu.input_size must be in \[32, 1024\], got 0"),
        ("train.profiles.cpu.epochs", -1, r"train.profiles.cpu.epochs must be in \[1, 10000\], got -1"),
        ("train.profiles.cpu.epochs", 2.5, r"params train.profiles.cpu.epochs: expected int, got 2.5"),
        ("train.profiles.cpu.epoch", 3, r"params train.profiles.cpu: unknown key\(s\) epoch"),
        (
            "experiments.synthetic_meganet.model_params",
            {"blocks": 0},
            r"params experiments.synthetic_meganet: model_params.blocks must be in \[1, 4\], got 0",
        ),
        (
            "experiments.synthetic_meganet.model_params",
            {"block": 3},
            r"experiments.synthetic_meganet: model_params: unknown key\(s\) block",
        ),
        ("experiments.synthetic_meganet.model", "megnet", r"experiment model must be one of meganet"),
        ("spotting.min_peak_ratio", 0, r"spotting.min_peak_ratio must be in \(0, inf\)"),
        ("synth.frames", 1, r"synth.frames must be in \[8, 1000\], got 1"),
        ("datasets.samm.fps", 0, r"params datasets.samm.fps must be in \(0, 10000\], got 0"),
    ],
)
def test_every_value_is_range_checked_when_params_load(raw, path, value, pattern):
    """A value out of range fails when params load, in one line naming the key and the range (a bad value used to
    reach OpenCV, torch or the user's results)."""
    *parents, last = path.split(".")
    node = raw
    for key in parents:
        node = node[key]
    node[last] = value
    with pytest.raises(UserError, match=pattern):
        Params.from_dict(raw)


def test_model_params_name_the_registered_models():
    from mer_pipeline.config import MODEL_PARAMS
    from mer_pipeline.models import MODELS

    assert sorted(MODEL_PARAMS) == MODELS.names()
