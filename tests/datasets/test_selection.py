"""What params.yaml `pipeline` selects: checked with one line naming the key, written per dataset, linked safely."""

import json
import os

import pytest
import yaml
from conftest import REPO
from layouts import casme2_tree, samm_tree, smic_tree

from mer_pipeline.cli.app import app, main
from mer_pipeline.config import Params
from mer_pipeline.datasets.selection import check_stage, link_raw
from mer_pipeline.errors import UserError


def params_with(tmp_path, **pipeline) -> dict:
    data = yaml.safe_load((REPO / "params.yaml").read_text())
    for name, tree in (("casme2", casme2_tree), ("smic-hs", smic_tree), ("samm", samm_tree)):
        tree(tmp_path / name.upper())
        data["datasets"][name]["root"] = str(tmp_path / name.upper())
    data["synth"]["out"] = data["datasets"]["synthetic"]["root"] = str(tmp_path / "raw" / "synthetic")
    data["pipeline"] = {"datasets": ["casme2", "smic-hs", "samm"], "experiments": ["table3_composite"], **pipeline}
    return data


def check(tmp_path, data: dict) -> dict:
    return check_stage(Params.from_dict(data), tmp_path / "checked")


def test_a_good_selection_writes_one_file_per_selected_dataset(tmp_path):
    data = params_with(tmp_path)
    (tmp_path / "checked").mkdir()
    (tmp_path / "checked" / "samm.json").write_text("{}")  # selected earlier, not now
    assert check(tmp_path, data)["datasets"] == 3
    files = sorted(p.name for p in (tmp_path / "checked").iterdir())
    assert files == ["casme2.json", "samm.json", "smic-hs.json"]
    entry = json.loads((tmp_path / "checked" / "casme2.json").read_text())
    assert (
        entry["root"] == str((tmp_path / "CASME2").resolve())
        and entry["labels"]["three_class"]["disgust"] == "negative"
    )
    before = (tmp_path / "checked" / "casme2.json").read_bytes()
    data["datasets"]["smic-hs"]["fps"] = 50  # another dataset's param: casme2's file (its stages' dep) is unchanged
    check(tmp_path, data)
    assert (tmp_path / "checked" / "casme2.json").read_bytes() == before


@pytest.mark.parametrize(
    "change, key",
    [
        (
            lambda d: d["pipeline"].update(experiments=["table7"]),
            "pipeline.experiments: unknown experiment group 'table7'",
        ),
        (
            lambda d: d["pipeline"].update(datasets=["casme2", "samm"]),
            "pipeline.experiments: table3_composite reads datasets ['smic-hs'] that are not in pipeline.",
        ),
        (
            lambda d: d["pipeline"].update(datasets=["casme2", "smic-hs", "samm", "casme4"]),
            "pipeline.datasets: unknown dataset 'casme4'",
        ),
        (
            lambda d: d["datasets"]["casme2"].update(root="/nowhere/CASME2"),
            "datasets.casme2.root: /nowhere/CASME2 is not a folder",
        ),
        (
            lambda d: d["experiments"]["table3_composite"].update(modalities=["mesti-offset"]),
            "experiments.table3_composite: modalities ['mesti-offset'] are not stores dvc repro builds",
        ),
    ],
)
def test_bad_choices_stop_with_one_line_naming_the_key(tmp_path, change, key):
    data = params_with(tmp_path)
    change(data)
    with pytest.raises(UserError, match="^params ") as err:
        check(tmp_path, data)
    assert key in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "checked").exists()  # nothing written before the whole selection is checked


def test_a_root_without_its_layout_is_refused(tmp_path):
    data = params_with(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    data["datasets"]["casme2"]["root"] = str(empty)
    with pytest.raises(UserError, match=r"^params datasets\.casme2\.root: .*empty"):
        check(tmp_path, data)
    data["datasets"]["casme2"]["root"] = str(tmp_path / "SMIC-HS")  # another dataset's layout
    with pytest.raises(UserError, match=r"^params datasets\.casme2\.root: "):
        check(tmp_path, data)


def test_the_cli_check_is_one_line_and_exit_2(tmp_path, capsys):
    data = params_with(tmp_path, experiments=["nope"])
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(SystemExit) as exc:
        main(app, ["check", "--params", str(tmp_path / "params.yaml"), "--out", str(tmp_path / "checked")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert err.startswith("error: params pipeline.experiments: unknown experiment group 'nope'")


def test_the_raw_link_points_at_the_root_and_never_writes_it(tmp_path):
    root, other = tmp_path / "SMIC-HS", tmp_path / "SMIC2"
    smic_tree(root)
    smic_tree(other)
    listing = sorted(p.relative_to(root) for p in root.rglob("*"))
    link = tmp_path / "data" / "raw" / "smic-hs"
    link_raw(root, link)
    assert link.is_symlink() and os.readlink(link) == str(root.resolve())
    link_raw(other, link)  # a new root replaces the link, not the folder behind it
    assert os.readlink(link) == str(other.resolve())
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == listing
    link.unlink()
    link.mkdir()
    (link / "mine.txt").write_text("user file")
    with pytest.raises(UserError, match="not a link the pipeline made"):
        link_raw(root, link)
    assert (link / "mine.txt").read_text() == "user file"
