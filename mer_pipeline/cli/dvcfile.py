"""dvc.yaml, written from the code: every stage's code deps are its computed import closure (identity.dvc_deps).

The file covers every dataset and experiment group params.yaml can name: per-dataset stages iterate over
`${pipeline.datasets}`, per-group stages over `${pipeline.experiments}`, so users choose what `dvc repro` builds in
params.yaml alone and never edit dvc.yaml. Developers rerun `python -m mer_pipeline.cli.dvcfile` after changing a
stage's imports; tests/test_identity.py fails while the committed file differs from what this writes.
"""

import sys
from pathlib import Path

import yaml

from mer_pipeline.config import APEX_VARIANT_STORES, split_store_name
from mer_pipeline.identity import REPO_DIR, dvc_deps
from mer_pipeline.modalities.registry import get, known, module_of

HEADER = """\
# Written by `python -m mer_pipeline.cli.dvcfile` from the code: do not edit. Choose what `dvc repro` builds in
# params.yaml `pipeline` (datasets, experiment groups). Code deps are each stage's computed import closure.
# check -> raw@<dataset> -> index -> faces -> spot -> modalities-<store> -> preview;
# inputs@<group> (the stores the group reads, each with a content digest) -> train@<group> -> report.
"""
DATASET = "${item}"
EACH_DATASET = "${pipeline.datasets}"
EACH_GROUP = "${pipeline.experiments}"


def code(script: str, *extra: str) -> list[str]:
    return dvc_deps(REPO_DIR / "stages" / script, *extra)


def no_cache(path: str) -> dict:
    return {path: {"cache": False}}


def modality_stage(store: str) -> dict:
    """One store of every selected dataset; the apex-centred ones also depend on the apex they take."""
    modality, choice = split_store_name(store)
    deps = code("modalities.py", module_of(modality)) + [f"data/faces/{DATASET}"]
    params = [f"modalities.params.{modality}", "modalities.size", "modalities.out", "faces.out"]
    if get(modality).uses_apex and choice != "middle":
        deps.append(f"data/spotting/{DATASET}/apexes.csv")  # read when the apex is (or may be set to) spotted
        params.append("spotting.out" if choice == "spotted" else f"modalities.apex.{DATASET}")
    return {
        "foreach": EACH_DATASET,
        "do": {
            "cmd": f"python stages/modalities.py --dataset {DATASET} --modality {store}",
            "deps": deps,
            "params": params,
            "outs": [f"data/modalities/{DATASET}/{store}.zarr"],
        },
    }


def stages() -> dict:
    checked = f"data/checked/{DATASET}.json"
    raw = f"data/raw/{DATASET}"
    out = {
        "check": {
            "cmd": "python stages/check.py",
            "deps": code("check.py"),
            "params": ["pipeline", "datasets", "labels", "experiments", "synth.out", "modalities.names"],
            "outs": [no_cache("data/checked")],
        },
        "raw": {
            "foreach": EACH_DATASET,
            "do": {
                "cmd": f"python stages/raw.py --dataset {DATASET}",
                "deps": code("raw.py") + [checked],
                "params": ["synth"],
                "outs": [no_cache(raw)],
            },
        },
        "index": {
            "foreach": EACH_DATASET,
            "do": {
                "cmd": f"python stages/index.py --dataset {DATASET}",
                "deps": code("index.py") + [checked, raw],
                "params": ["index"],
                "outs": [f"data/index/{DATASET}"],
            },
        },
        "faces": {
            "foreach": EACH_DATASET,
            "do": {
                "cmd": f"python stages/faces.py --dataset {DATASET}",
                "deps": code("faces.py") + [f"data/index/{DATASET}", raw],
                "params": ["faces", "index.out"],
                "outs": [f"data/faces/{DATASET}"],
            },
        },
        "spot": {
            "foreach": EACH_DATASET,
            "do": {
                "cmd": f"python stages/spot.py --dataset {DATASET}",
                "deps": code("spot.py") + [f"data/faces/{DATASET}/faces.zarr", raw],  # raw: the synthetic ground truth
                "params": ["spotting", "faces.out", f"datasets.{DATASET}.root"],
                "outs": [f"data/spotting/{DATASET}"],
                "metrics": [no_cache(f"reports/metrics/spotting_{DATASET}.json")],
            },
        },
    }
    for store in (*known(), *APEX_VARIANT_STORES):
        out[f"modalities-{store}"] = modality_stage(store)
    out["preview"] = {
        "foreach": EACH_DATASET,
        "do": {
            "cmd": f"python stages/preview.py --dataset {DATASET} --out reports/preview/{DATASET}.png",
            "deps": code("preview.py") + [f"data/modalities/{DATASET}"],
            "params": ["modalities.names", "modalities.out"],
            "outs": [f"reports/preview/{DATASET}.png"],
        },
    }
    out["inputs"] = {
        "foreach": EACH_GROUP,
        "do": {
            "cmd": "python stages/inputs.py --experiment ${item}",
            "deps": code("inputs.py") + ["data/modalities"],
            "params": ["experiments.${item}", "modalities.out"],
            "outs": [no_cache("data/inputs/${item}")],
        },
    }
    out["train"] = {
        "foreach": EACH_GROUP,
        "do": {
            "cmd": "python stages/train.py --experiment ${item}",
            "deps": code("train.py") + ["data/inputs/${item}"],
            "params": ["experiments.${item}", "train", "modalities.out", "labels"],
            "outs": ["reports/experiments/${item}"],
            "metrics": [no_cache("reports/metrics/${item}.json")],
        },
    }
    out["report"] = {
        "cmd": "python stages/report.py --out reports/report",
        "deps": code("report.py")
        + ["mer_pipeline/evaluation/paper_results.csv", "reports/experiments", "reports/metrics", "data/inputs"],
        "params": ["pipeline.experiments", "train.out", "modalities.out", "spotting.metrics"],
        "outs": ["reports/report"],
    }
    return out


# `dvc plots show`: the report writes one CSV per experiment into each folder (evaluation/views.py).
PLOTS = [
    {
        "reports/report/plots/train_loss": {
            "x": "epoch",
            "y": "loss",
            "title": "training loss (mean over seeds and folds)",
        }
    },
    {
        "reports/report/plots/per_subject": {
            "x": "acc",
            "y": "subject",
            "template": "bar_horizontal",
            "title": "ACC per held-out subject (LOSO, mean over seeds)",
        }
    },
]


def text() -> str:
    body = yaml.safe_dump({"stages": stages(), "plots": PLOTS}, sort_keys=False, width=120, default_flow_style=False)
    return HEADER + body


if __name__ == "__main__":  # python -m mer_pipeline.cli.dvcfile [--check]
    path = REPO_DIR / "dvc.yaml"
    if "--check" in sys.argv[1:]:
        sys.exit(0 if Path(path).read_text() == text() else "dvc.yaml is stale: run python -m mer_pipeline.cli.dvcfile")
    path.write_text(text())
