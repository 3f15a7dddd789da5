"""A 2-epoch LOSO train on the tiny synthetic data, its metrics read back by DVC, and the report."""

import csv
import json
import subprocess
import sys
from dataclasses import asdict, replace

import numpy as np
import pytest
import torch
import yaml
from conftest import REPO

from mer_pipeline.config import ExperimentParams, MEGANetParams, ModalitiesParams, Params, expand_experiments
from mer_pipeline.errors import UserError
from mer_pipeline.evaluation.report import evaluate_stage, report_stage
from mer_pipeline.modalities.task import run_modality
from mer_pipeline.store.modality import open_samples
from mer_pipeline.training.inference import classify, load_trained
from mer_pipeline.training.stage import train_stage


@pytest.fixture(scope="module")
def trained(tiny_faces, tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    stores = root / "modalities"
    mp = ModalitiesParams(size=48, device="cpu", params={"mesti": {"scaling": "signed"}})
    run_modality("mesti", tiny_faces, stores / "synthetic" / "mesti.zarr", mp)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["modalities"]["out"] = str(stores)
    params["spotting"]["metrics"] = str(root / "metrics")
    params["train"].update(
        out=str(root / "experiments"),
        metrics=str(root / "metrics"),
        folds=str(root / "folds"),
        device="cpu",
        profiles={"cpu": {"epochs": 2, "input_size": 32, "seeds": [0, 1]}},
        batch_size=4,
    )
    params["experiments"] = {
        "tiny": {"model": "meganet", "modalities": ["mesti"], "datasets": ["synthetic"], "model_params": {"blocks": 2}},
        "tiny_ablation": {
            "model": "meganet",
            "modalities": ["mesti"],
            "datasets": ["synthetic"],
            "variants": {"no_sa": {"self_attention": False}, "no_res": {"residual": False}},
        },
    }
    params["pipeline"]["experiments"] = ["tiny", "tiny_ablation"]
    params = Params.from_dict(params)
    result = train_stage(params, "tiny")
    train_stage(params, "tiny_ablation")
    return root, params, result


def test_train_writes_pooled_metrics_predictions_and_checkpoint(trained):
    root, _, result = trained
    (exp,) = result["experiments"]
    assert exp["folds"] == 2 and exp["n"] == 8  # two synthetic subjects -> two LOSO folds
    metrics = json.loads((root / "metrics" / "tiny.json").read_text())
    assert set(metrics) == {"acc", "acc_std", "uf1", "uf1_std", "uar", "uar_std", "n"} and 0 <= metrics["uf1"] <= 1
    res = json.loads((root / "experiments" / "tiny" / "results.json").read_text())
    assert list(res["seeds"]) == ["0", "1"]  # pooled over folds within each seed, then mean and spread
    for key in ("acc", "uf1", "uar"):
        per_seed = [res["seeds"][s][key] for s in ("0", "1")]
        assert res[key] == pytest.approx(np.mean(per_seed)) and res[f"{key}_std"] == pytest.approx(np.std(per_seed))
    assert set(res["per_fold"]) == {"synthetic/sub01", "synthetic/sub02"}
    assert sum(f["n"] for f in res["per_fold"].values()) == 8 and "acc_std" in res["per_fold"]["synthetic/sub01"]
    assert res["protocol"] == {"name": "loso", "folds": 2, "test_clips": [4, 4]}
    assert res["recipe"]["epochs"] == 2 and res["config"]["model_params"] == asdict(MEGANetParams(blocks=2))
    assert sum(sum(row) for row in res["confusion"]) == 16  # every seed's predictions
    lines = (root / "experiments" / "tiny" / "predictions.csv").read_text().splitlines()
    assert len(lines) == 1 + 2 * 8 and lines[0].startswith("seed,clip_id,dataset,subject,fold,y_true,y_pred")
    assert (root / "experiments" / "tiny" / "checkpoint.pt").is_file()
    losses = (root / "experiments" / "tiny" / "train_loss.csv").read_text().splitlines()
    assert len(losses) == 1 + 2 * 2 * 2  # header + seeds x folds x epochs
    ablation = json.loads((root / "metrics" / "tiny_ablation.json").read_text())
    assert set(ablation) == {"no_sa", "no_res"} and set(ablation["no_res"]) == set(metrics)


def test_the_checkpoint_classifies_its_held_out_clips_as_training_did(trained):
    """training.inference (what the report and a user call) turns stored images into the model's input exactly as
    training did: the last fold's checkpoint gives its held-out clips the probabilities predictions.csv holds."""
    root, params, _ = trained
    model, meta = load_trained(root / "experiments" / "tiny" / "checkpoint.pt", "meganet", 3)
    samples = open_samples(root / "modalities" / "synthetic" / "mesti.zarr", "label3")
    held_out = [i for i, c in enumerate(samples.clip_ids) if c in meta["test_clips"]]
    probs = classify(model, torch.from_numpy(samples.image[held_out]), meta["input_size"])
    with open(root / "experiments" / "tiny" / "predictions.csv", newline="") as fh:
        rows = {r["clip_id"]: r for r in csv.DictReader(fh) if r["seed"] == str(params.train.run_seeds[-1])}
    written = np.array([[float(rows[samples.clip_ids[i]][f"p_{c}"]) for c in meta["class_names"]] for i in held_out])
    assert len(held_out) == 4 and meta["input_size"] == 32
    np.testing.assert_allclose(probs.numpy(), written, atol=6e-5)  # predictions.csv holds 4 decimals


def test_evaluate_rescoring_matches_training(trained):
    root, params, _ = trained
    again = evaluate_stage(params, "tiny")
    res = json.loads((root / "experiments" / "tiny" / "results.json").read_text())
    for key in ("acc", "acc_std", "uf1", "uf1_std", "uar", "uar_std"):
        assert again[key] == pytest.approx(res[key]), key
    with pytest.raises(UserError, match="no results for experiment 'nope'"):
        evaluate_stage(params, "nope")


def test_dvc_reads_the_metrics(trained, tmp_path):
    root, _, _ = trained
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=root, check=True)
    (root / "dvc.yaml").write_text(yaml.safe_dump({"metrics": ["metrics/tiny.json"]}))
    out = subprocess.run(
        [sys.executable, "-m", "dvc", "metrics", "show", "--json"], cwd=root, check=True, capture_output=True, text=True
    ).stdout
    shown = json.loads(out)
    data = next(iter(shown.values()))["data"]["metrics/tiny.json"]["data"]
    assert data == json.loads((root / "metrics" / "tiny.json").read_text())


def write_spotting_metrics(root):
    """A spotting stage's metrics file, as spotting/stage.py writes it."""
    spot = {
        "clips": 8,
        "noise_floor_px": 0.07,
        "no_motion": 1,
        "flagged": 2,
        "vs_annotated": {"clips": 8, "mae_frames": 0.5, "within_2": 1.0, "max_frames": 2},
        "vs_truth": {"clips": 8, "mae_frames": 0.375, "within_2": 0.875, "max_frames": 3},
    }
    (root / "metrics" / "spotting_synthetic.json").write_text(json.dumps(spot))


def test_report_has_every_table_and_figures(trained):
    root, params, _ = trained
    write_spotting_metrics(root)
    result = report_stage(params, root / "report")
    md = (root / "report" / "report.md").read_text()
    for title in (
        "Table I",
        "Table II",
        "Table III",
        "Table IV",
        "Table V",
        "Table VI",
        "Confusion matrices",
        "Gradient attention",
    ):
        assert title in md, title
    assert "0.913" in md  # the paper's CASME II UF1 beside ours
    assert "| FeatRef (2022) | 0.892 | 0.887 |" in md  # Table III's state-of-the-art rows, as published
    for variant in ("gradient_attention=off residual=on self_attention=off", "blocks=4"):  # Tables V and VI
        assert f"| {variant} |" in md, variant
    assert "| optical_flow_apex_offset |" in md  # Table I's seventh row (apex -> offset flow)
    assert "shared/" not in md and "MER_FACTS" not in md  # nothing outside the project
    assert (root / "report" / "report.html").read_text().count("<table>") == 7 + 1 + 3 + 1  # + spotting, per-subject,
    assert "| synthetic | 8 | 0.38 | 87.5 % | 0.50 | 100.0 % | 1 | 2 |" in md  # provenance
    assert "## Per subject" in md and "| synthetic/sub01 | 4 |" in md and "## Provenance" in md
    assert (root / "report" / "figures" / "folds_tiny.png").is_file()
    res = json.loads((root / "experiments" / "tiny" / "results.json").read_text())
    assert res["provenance"]["seeds"] == [0, 1] and len(res["provenance"]["code"]) == 16
    assert res["provenance"]["inputs"][0]["modality"] == "mesti" and res["provenance"]["device"] == "cpu"
    assert (root / "report" / "figures" / "confusion_tiny.png").is_file()
    assert (root / "report" / "figures" / "attention_tiny.png").is_file()
    assert result["figures"] == 9  # three confusion matrices, three attention maps, three per-subject plots
    plots = root / "report" / "plots"  # what `dvc plots show` draws
    assert (plots / "train_loss" / "tiny.csv").read_text().splitlines()[0:1] == ["epoch,loss"]
    assert len((plots / "train_loss" / "tiny.csv").read_text().splitlines()) == 1 + 2  # 2 epochs
    assert (
        (plots / "per_subject" / "tiny_ablation-no_sa.csv")
        .read_text()
        .startswith("subject,clips,acc,uf1\nsynthetic/sub01,4,")
    )


def test_the_report_covers_the_selected_groups_only(trained, tmp_path):
    root, params, _ = trained
    only = replace(params, pipeline=replace(params.pipeline, experiments=("tiny",)))
    assert report_stage(only, tmp_path / "report")["experiments"] == 1
    none = replace(params, pipeline=replace(params.pipeline, experiments=()))
    assert report_stage(none, tmp_path / "none")["experiments"] == 0
    assert "No experiment group selected" in (tmp_path / "none" / "report.md").read_text()


class Payload:
    """Anything a pickle can carry: a weights-only load refuses it."""


def test_a_pickled_checkpoint_leaves_out_its_figure_and_the_report_goes_on(trained, tmp_path):
    import shutil

    import torch

    root, params, _ = trained
    experiments = tmp_path / "experiments"
    shutil.copytree(root / "experiments", experiments)
    torch.save({"meta": Payload(), "state_dict": {}}, experiments / "tiny" / "checkpoint.pt")
    swapped = replace(params, train=replace(params.train, out=str(experiments)))
    result = report_stage(swapped, tmp_path / "report")
    md = (tmp_path / "report" / "report.md").read_text()
    assert (
        f"Gradient attention — tiny: left out ({experiments / 'tiny' / 'checkpoint.pt'}: not a weights-only "
        "checkpoint (UnpicklingError))." in md
    )
    assert not (tmp_path / "report" / "figures" / "attention_tiny.png").exists()
    assert (tmp_path / "report" / "figures" / "attention_tiny_ablation-no_sa.png").is_file()  # the others still drawn
    assert result["figures"] == 8


def test_report_writes_the_readme_results_block(trained, tmp_path):
    root, params, _ = trained
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- results:begin -->\nold\n<!-- results:end -->\nrest\n")
    report_stage(params, tmp_path / "report", (readme,))
    text = readme.read_text()
    assert text.startswith("intro\n<!-- results:begin -->\n| experiment |") and text.endswith(
        "<!-- results:end -->\nrest\n"
    )
    assert "| tiny | meganet | mesti | loso | 3 |" in text and "old" not in text
    write_spotting_metrics(root)
    readme.write_text("<!-- results:begin -->\n<!-- results:end -->\n")
    page = tmp_path / "spotting.md"
    page.write_text("- list item\n  <!-- spotting:begin -->\n  <!-- spotting:end -->\n")
    report_stage(params, tmp_path / "report", (readme, page))
    assert "| tiny | meganet |" in readme.read_text() and "spotting" not in readme.read_text()
    assert "\n  | synthetic | 8 | 0.38 | 87.5 % |" in page.read_text()  # indented as its marks, inside the item
    readme.write_text("no marks\n")
    with pytest.raises(UserError, match="no <!-- results:begin -->"):
        report_stage(params, tmp_path / "report", (readme,))


def test_experiment_groups_expand():
    table = {
        "t1": {
            "model": ["vgg19", "resnet50"],
            "modalities": [["mesti"], ["apex_frame"]],
            "datasets": [["casme2"], ["samm"]],
            "protocol": "holdout",
            "classes": 5,
        },
        "t5": {
            "model": "meganet",
            "modalities": ["mesti"],
            "datasets": ["casme2", "samm"],
            "variants": {"full": {}, "no_ga": {"gradient_attention": False}},
        },
    }
    exps = expand_experiments(table)
    assert len(exps) == 2 * 2 * 2 + 2
    assert exps["t1-vgg19-mesti-samm"] == ExperimentParams("vgg19", ("mesti",), ("samm",), "holdout", 5, {})
    assert exps["t5-no_ga"].datasets == ("casme2", "samm") and exps["t5-no_ga"].model_params == MEGANetParams(
        gradient_attention=False
    )
    with pytest.raises(UserError, match="protocol must be one of loso, holdout"):
        expand_experiments({"x": {"model": "meganet", "modalities": ["mesti"], "datasets": ["a"], "protocol": "kfold"}})


def test_repo_experiments_are_all_valid(repo_params):
    exps = {name for group in repo_params.experiments.values() for name in group}
    assert len([e for e in exps if e.startswith("table1-")]) == 3 * 7 * 2  # both flow directions
    assert {
        "table3-casme2",
        "table4-samm",
        "table5-smic-hs-residual_only",
        "table6-samm-blocks4",
        "table2_vgg19-dynamic_image-samm",
        "table1-vgg19-optical_flow_apex_offset-casme2",
    } <= exps
    assert set(repo_params.pipeline.experiments) <= set(repo_params.experiments)


def test_folds_trained_together_give_the_bytes_of_folds_trained_alone(trained, tmp_path):
    root, params, _ = trained

    def run(name: str) -> tuple[list[list[str]], list[list[str]]]:
        t = replace(
            params.train,
            folds_at_once=2,
            out=str(tmp_path / name),
            metrics=str(tmp_path / name / "m"),
            folds=str(tmp_path / name / "folds"),
        )
        train_stage(replace(params, train=t), "tiny")
        folder = tmp_path / name / "tiny"
        return (
            [line.split(",") for line in (folder / "predictions.csv").read_text().splitlines()],
            [line.split(",") for line in (folder / "train_loss.csv").read_text().splitlines()],
        )

    (pred, losses), again = run("a"), run("b")
    assert (pred, losses) == again  # the same bytes on a rerun
    one_by_one = root / "experiments" / "tiny"
    alone_pred = [line.split(",") for line in (one_by_one / "predictions.csv").read_text().splitlines()]
    alone_losses = [line.split(",") for line in (one_by_one / "train_loss.csv").read_text().splitlines()]
    # each fold keeps its own dropout generator in its turns: trained together = trained alone, to the byte
    assert pred == alone_pred and losses == alone_losses
