"""The paper's Tables I-VI beside ours, in the paper's layouts.

The paper's figures are `paper_results.csv` beside this file: every figure of Tables I-VI of the MESTI-MEGANet paper
(arXiv 2509.00056), including the state-of-the-art rows of Tables III and IV, one row per figure (ACC as a fraction),
as published; its `note` column says where the paper leaves something open (class count of Table I, the dataset of
Tables V and VI, Table II's figures taken from the original studies). Cells read `ours ± std (paper)`; "—" = not run
here.
"""

import csv
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

from mer_pipeline.config import MEGANetParams

PAPER_CSV = Path(__file__).with_name("paper_results.csv")
DATASETS = ("casme2", "smic-hs", "samm")
OURS_ONLY = ("synthetic",)  # our embedded default: no paper figure
METRICS = ("uf1", "uar", "acc")
# Table I's rows -> the modality inputs that produce them (the flow store holds both directions' images)
TABLE1_ROWS = {
    "apex_frame": ["apex_frame"],
    "optical_flow_onset_apex": ["optical_flow"],
    "optical_flow_apex_offset": ["optical_flow_apex_offset"],
    "dynamic_image": ["dynamic_image"],
    "affective_image": ["affective_image"],
    "active_image": ["active_image"],
    "mesti": ["mesti"],
}
NETWORKS = ("vgg19", "resnet50", "efficientnet_b0")


@lru_cache(maxsize=1)
def paper() -> tuple[dict, ...]:
    with open(PAPER_CSV, newline="") as fh:
        return tuple({**row, "value": float(row["value"])} for row in csv.DictReader(fh))


def figure(table: str, **match) -> float | None:
    """The paper's figure of `table` whose columns equal `match`, or None when the paper has none."""
    for row in paper():
        if row["table"] == table and all(row[k] == v for k, v in match.items()):
            return row["value"]
    return None


def find(results, model, modalities, dataset, protocol, classes=None, params=None) -> dict | None:
    """Our experiment with exactly this setting; a model param left out of its config counts as the default."""
    defaults = asdict(MEGANetParams()) if model == "meganet" else {}
    for r in results:
        c = r["config"]
        if (
            (c["model"], c["modalities"], c["datasets"], c["protocol"]) == (model, modalities, [dataset], protocol)
            and classes in (None, c["classes"])
            and all(c["model_params"].get(k, defaults.get(k)) == v for k, v in (params or {}).items())
        ):
            return r
    return None


def cell(r: dict | None, key: str, paper_value: float | None = None) -> str:
    ours = f"{r[key]:.3f} ± {r[key + '_std']:.3f}" if r else "—"
    return ours if paper_value is None else f"{ours} ({paper_value:.3f})"


def variant_params(text: str) -> dict:
    """'gradient_attention=off residual=on self_attention=off' / 'blocks=2' -> MEGANet params."""
    out = {}
    for part in text.split():
        key, value = part.split("=")
        out[key] = {"on": True, "off": False}.get(value, int(value) if value.isdigit() else value)
    return out


def table1(results) -> list[tuple]:
    columns = [(n, d) for n in NETWORKS for d in ("casme2", "samm", *OURS_ONLY)]
    rows = [
        [
            row,
            *[
                cell(find(results, n, mods, d, "holdout", 5), "acc", figure("I", modality=row, network=n, dataset=d))
                for n, d in columns
            ],
        ]
        for row, mods in TABLE1_ROWS.items()
    ]
    return [
        ("h2", "Table I — modalities into CNNs, 90/10 split, 5-class here (the paper does not state it), ACC"),
        ("table", ["modality", *[f"{n} {d}" for n, d in columns]], rows),
    ]


def table2(results) -> list[tuple]:
    pairs = list(dict.fromkeys((r["network"], r["modality"]) for r in paper() if r["table"] == "II"))
    rows = []
    for network, modality in pairs:
        marks = {r["note"] for r in paper() if r["table"] == "II" and r["modality"] == modality and r["note"]}
        rows.append(
            [
                f"{network} + {modality}" + (" *" if marks else ""),
                *[
                    cell(
                        find(results, network, [modality], d, "loso"),
                        "acc",
                        figure("II", network=network, modality=modality, dataset=d),
                    )
                    for d in ("casme2", "samm", *OURS_ONLY)
                ],
            ]
        )
    return [
        ("h2", "Table II — MESTI against each baseline's own input, LOSO, ACC"),
        (
            "p",
            "* the paper quotes the original study's figure for the baseline input. Ours trains every "
            "baseline with this pipeline's recipe (focal loss, Adam, the paper's augmentation), not each "
            "original study's own recipe.",
        ),
        ("table", ["network + input", "casme2", "samm", *OURS_ONLY], rows),
    ]


def sota_table(results, table: str, classes: int, datasets: tuple[str, ...]) -> list[tuple]:
    methods = list(dict.fromkeys(r["method_or_variant"] for r in paper() if r["table"] == table))
    header = [
        "method",
        *[f"{d} {m.upper()}" for d in datasets for m in METRICS],
        *[f"{d} {m.upper()} (ours)" for d in OURS_ONLY for m in METRICS],
    ]
    rows = [
        [
            m,
            *[
                f"{v:.3f}" if (v := figure(table, method_or_variant=m, dataset=d, metric=k)) is not None else ""
                for d in datasets
                for k in METRICS
            ],
            *[""] * 3 * len(OURS_ONLY),
        ]
        for m in methods
    ]
    ours = {
        d: find(results, "meganet", ["mesti"], d, "loso", classes, asdict(MEGANetParams()))
        for d in (*datasets, *OURS_ONLY)
    }
    rows.append(["MESTI-MEGANet (ours)", *[cell(ours[d], k) for d in (*datasets, *OURS_ONLY) for k in METRICS]])
    return [("table", header, rows)]


def ablation_table(results, table: str, title: str) -> list[tuple]:
    variants = list(dict.fromkeys(r["method_or_variant"] for r in paper() if r["table"] == table))
    header = [
        "variant",
        *[f"paper {m.upper()}" for m in METRICS],
        *[f"{d} UF1 / UAR / ACC" for d in (*DATASETS, *OURS_ONLY)],
    ]
    rows = []
    for v in variants:
        params = {**asdict(MEGANetParams()), **variant_params(v)}
        rows.append(
            [
                v,
                *[f"{figure(table, method_or_variant=v, metric=m):.3f}" for m in METRICS],
                *[
                    " / ".join(cell(r, m) for m in METRICS)
                    if (r := find(results, "meganet", ["mesti"], d, "loso", 3, params))
                    else "—"
                    for d in (*DATASETS, *OURS_ONLY)
                ],
            ]
        )
    note = {r["note"] for r in paper() if r["table"] == table} - {""}
    return [("h2", title), ("p", "; ".join(sorted(note)) + "."), ("table", header, rows)]


def paper_tables(results: list[dict]) -> list[tuple]:
    return [
        *table1(results),
        *table2(results),
        ("h2", "Table III — 3-class LOSO (MEGC 2019), UF1 / UAR / ACC, state of the art and ours"),
        *sota_table(results, "III", 3, DATASETS),
        ("h2", "Table IV — 5-class LOSO, UF1 / UAR / ACC, state of the art and ours"),
        *sota_table(results, "IV", 5, ("casme2", "samm")),
        *ablation_table(results, "V", "Table V — MEGANet ablations, MESTI, LOSO, 3-class"),
        *ablation_table(results, "VI", "Table VI — number of Residual-Attention blocks, MESTI, LOSO, 3-class"),
    ]
