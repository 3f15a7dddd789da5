import pytest

from mer_pipeline.config import (
    FacesParams,
    SynthParams,
    build,
    dataset_params,
    label_table,
    load_params,
    params_hash,
    section,
)
from mer_pipeline.errors import UserError


def test_repo_params_build(repo_params):
    assert section(repo_params, "faces", FacesParams).size == 224
    assert section(repo_params, "synth", SynthParams).classes == ("happiness", "surprise", "disgust", "repression")
    samm = label_table(repo_params, "samm")
    assert [e for e, c in samm.five_class.items() if c == "other"] == ["other", "disgust", "fear", "sadness"]
    assert dataset_params(repo_params, "smic-hs").fps == 100


def test_unknown_key_fails_loudly():
    with pytest.raises(UserError, match=r"params faces: unknown key\(s\) sise"):
        build(FacesParams, {"sise": 3}, "faces")


def test_wrong_type_and_bad_choice():
    with pytest.raises(UserError, match="faces.size: expected int"):
        build(FacesParams, {"size": "big"}, "faces")
    with pytest.raises(UserError, match="faces.equalise must be one of none, global, clahe"):
        build(FacesParams, {"equalise": "hist"}, "faces")


def test_unknown_dataset_and_label_mistakes(repo_params):
    with pytest.raises(UserError, match="unknown dataset 'casme3'"):
        dataset_params(repo_params, "casme3")
    bad = {"labels": {"x": {"emotions": ["joy"], "three_class": {"joy": "happy"}}}}
    with pytest.raises(UserError, match="not declared class names"):
        label_table(bad, "x")


def test_params_file_errors(tmp_path):
    with pytest.raises(UserError, match="params file not found"):
        load_params(tmp_path / "params.yaml")
    (tmp_path / "p.yaml").write_text("a: [")
    with pytest.raises(UserError, match="not valid YAML"):
        load_params(tmp_path / "p.yaml")


def test_params_hash_changes_with_any_value():
    assert params_hash(FacesParams()) == params_hash(FacesParams())
    assert params_hash(FacesParams()) != params_hash(FacesParams(clahe_clip=3.0))
