"""The experiments report: tables in the paper's layout with our numbers beside the paper's, confusion matrices and
gradient-attention maps. One list of blocks is rendered to Markdown and to HTML."""

import csv
import html
import json
from pathlib import Path

import torch

from mer_pipeline import paths
from mer_pipeline.config import ModalitiesParams, Params
from mer_pipeline.errors import UserError
from mer_pipeline.evaluation.figures import attention_png, confusion_png, gradient_attention_maps
from mer_pipeline.evaluation.paper import paper_tables
from mer_pipeline.evaluation.views import (
    per_subject_blocks,
    provenance_blocks,
    results_table,
    spotting_blocks,
    spotting_table,
    update_block,
    write_plot_tables,
)
from mer_pipeline.metrics import scores, spread
from mer_pipeline.progress import console


def load_results(root: Path, groups: tuple[str, ...] | None = None) -> list[dict]:
    """Every experiment's results.json under `root` (only under `root/<group>` for `groups`), each with the folder it
    is in under "folder"."""
    found = sorted(Path(root).rglob("results.json"))
    if groups is not None:
        found = [p for p in found if p.relative_to(root).parts[0] in groups]
    return [{**json.loads(p.read_text()), "folder": p.parent} for p in found]


def rescore(root: Path, name: str) -> dict:
    """Pooled and per-fold metrics recomputed from an experiment's predictions.csv."""
    result = next((r for r in load_results(root) if r["experiment"] == name), None)
    if result is None:
        raise UserError(f"{root}: no results for experiment {name!r} (run `mer-pipeline train -e {name}`)")
    names = result["class_names"]
    with open(result["folder"] / "predictions.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    idx = {c: i for i, c in enumerate(names)}
    per_seed = {}
    for seed in sorted({r["seed"] for r in rows}, key=int):
        sel = [r for r in rows if r["seed"] == seed]  # pooled over the folds within a seed
        s = scores([idx[r["y_true"]] for r in sel], [idx[r["y_pred"]] for r in sel], len(names), names)
        per_seed[seed] = {k: s[k] for k in ("acc", "uf1", "uar", "n")}
    return {
        "experiment": name,
        **spread(list(per_seed.values())),
        "n": next(iter(per_seed.values()))["n"],
        "seeds": per_seed,
    }


def tables(results: list[dict]) -> list[tuple]:
    """Blocks: ("h2", text), ("p", text), ("table", header, rows)."""
    out = [
        ("h2", "All experiments"),
        (
            "table",
            [
                "experiment",
                "model",
                "modalities",
                "datasets",
                "protocol",
                "classes",
                "profile",
                "ACC",
                "UF1",
                "UAR",
                "clips",
                "folds",
                "seeds",
            ],
            [
                [
                    r["experiment"],
                    r["config"]["model"],
                    "+".join(r["config"]["modalities"]),
                    "+".join(r["config"]["datasets"]),
                    r["config"]["protocol"],
                    r["config"]["classes"],
                    r["recipe"]["profile"],
                    *[f"{r[k]:.3f} ± {r[k + '_std']:.3f}" for k in ("acc", "uf1", "uar")],
                    r["n"],
                    r["folds"],
                    len(r["seeds"]),
                ]
                for r in results
            ],
        ),
    ]
    out += [
        (
            "p",
            "Figures are mean ± std over the seeds; in the paper's tables cells read ours ± std (paper), "
            "— = not run here. Real datasets are never on our machines; the synthetic columns are our embedded "
            "default, whose classes are separable by construction, so they check the pipeline, not the method.",
        )
    ]
    return out + paper_tables(results)


def figures(results: list[dict], stores: ModalitiesParams, out: Path) -> list[tuple]:
    blocks = [("h2", "Confusion matrices (pooled over folds)")]
    for r in results:
        png = out / "figures" / f"confusion_{r['experiment']}.png"
        confusion_png(r["confusion"], r["class_names"], r["experiment"], png)
        blocks.append(("img", r["experiment"], png.relative_to(out)))
    blocks.append(("h2", "Gradient attention over MESTI inputs (MEGANet, held-out clips of the last fold)"))
    for r in results:
        ckpt = r["folder"] / "checkpoint.pt"
        c = r["config"]
        if (
            c["model"] != "meganet"
            or c["modalities"] != ["mesti"]
            or not ckpt.is_file()
            or not c["model_params"].get("gradient_attention", True)
        ):
            continue
        png = out / "figures" / f"attention_{r['experiment']}.png"
        try:
            _attention_figure(r, ckpt, stores, png)
        except (UserError, RuntimeError, KeyError, TypeError) as exc:  # this figure only: the report goes on
            why = (
                exc if isinstance(exc, UserError) else f"{ckpt}: does not load into MEGANet ({exc.__class__.__name__})"
            )
            console.print(
                f"[yellow]report:[/yellow] attention figure of {r['experiment']} left out: {why}",
                highlight=False,
                soft_wrap=True,
            )
            blocks.append(("p", f"Gradient attention — {r['experiment']}: left out ({why})."))
            continue
        blocks.append(("img", f"gradient attention — {r['experiment']}", png.relative_to(out)))
    return blocks


def _attention_figure(result: dict, ckpt: Path, stores: ModalitiesParams, png: Path) -> None:
    import torch.nn.functional as F

    from mer_pipeline.modalities.keys import check_current
    from mer_pipeline.store.modality import open_samples
    from mer_pipeline.training.inference import load_trained, model_input

    model, meta = load_trained(ckpt, "meganet", len(result["class_names"]))
    store = paths.modality_store(stores, result["config"]["datasets"][0], "mesti")
    check_current(store)
    samples = open_samples(store, "label3")
    ids = [i for i, c in enumerate(samples.clip_ids) if c in set(meta.get("test_clips", []))][:4]
    if not ids:
        return
    images = samples.image[ids]
    maps = gradient_attention_maps(model, model_input(torch.from_numpy(images), meta["input_size"]))
    maps = F.interpolate(torch.from_numpy(maps)[:, None], size=images.shape[-2:], mode="bilinear")[:, 0].numpy()
    attention_png(images, maps, [samples.clip_ids[i] for i in ids], result["experiment"], png)


def render_markdown(blocks: list[tuple]) -> str:
    lines = ["# mer_pipeline experiments report", ""]
    for b in blocks:
        if b[0] == "h2":
            lines += [f"## {b[1]}", ""]
        elif b[0] == "p":
            lines += [b[1], ""]
        elif b[0] == "table":
            lines += ["| " + " | ".join(map(str, b[1])) + " |", "|" + "---|" * len(b[1])]
            lines += ["| " + " | ".join(map(str, row)) + " |" for row in b[2]] + [""]
        elif b[0] == "img":
            lines += [f"![{b[1]}]({b[2].as_posix()})", ""]
    return "\n".join(lines)


def render_html(blocks: list[tuple]) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>mer_pipeline report</title><style>",
        "body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #bbb;padding:3px 8px;font-size:13px}img{max-width:100%}</style></head><body>",
        "<h1>mer_pipeline experiments report</h1>",
    ]
    for b in blocks:
        if b[0] == "h2":
            parts.append(f"<h2>{e(b[1])}</h2>")
        elif b[0] == "p":
            parts.append(f"<p>{e(b[1])}</p>")
        elif b[0] == "table":
            head = "".join(f"<th>{e(str(h))}</th>" for h in b[1])
            body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in b[2])
            parts.append(f"<table><tr>{head}</tr>{body}</table>")
        elif b[0] == "img":
            parts.append(
                f"<figure><img src='{e(b[2].as_posix())}' alt='{e(b[1])}'><figcaption>{e(b[1])}</figcaption></figure>"
            )
    return "".join(parts) + "</body></html>\n"


def write_report(
    root: Path,
    out: Path,
    stores: ModalitiesParams,
    spotting_metrics: Path | None = None,
    groups: tuple[str, ...] | None = None,
) -> dict:
    """The report over every experiment under `root`, or over `groups` only (none selected: the spotting tables)."""
    results = load_results(root, groups)
    if not results and groups != ():
        raise UserError(f"{root}: no experiment results (run `mer-pipeline train` or `dvc repro`)")
    out.mkdir(parents=True, exist_ok=True)
    blocks = tables(results) if results else [("p", "No experiment group selected (params pipeline.experiments).")]
    blocks += (
        (spotting_blocks(spotting_metrics) if spotting_metrics else [])
        + per_subject_blocks(results, out)
        + figures(results, stores, out)
        + provenance_blocks(results)
    )
    write_plot_tables(results, out)
    (out / "report.md").write_text(render_markdown(blocks))
    (out / "report.html").write_text(render_html(blocks))
    return {"out": str(out), "experiments": len(results), "figures": sum(b[0] == "img" for b in blocks)}


def report_stage(params: Params, out: Path, pages: tuple[Path, ...] = ()) -> dict:
    """The report over the groups of `pipeline.experiments`; with `pages` (README.md, docs pages), also the results
    table into the page(s) holding `<!-- results:begin/end -->` marks (one at least) and the spotting table into those
    holding `<!-- spotting:begin/end -->`."""
    groups = params.pipeline.experiments
    result = write_report(Path(params.train.out), out, params.modalities, Path(params.spotting.metrics), groups)
    if pages:
        table = results_table(load_results(Path(params.train.out), groups))
        spots = spotting_table(Path(params.spotting.metrics))
        written = [update_block(page, "results", table) for page in pages]
        for page in pages:
            update_block(page, "spotting", spots)
        if not any(written):
            raise UserError(
                f"{', '.join(map(str, pages))}: no <!-- results:begin --> ... <!-- results:end --> block to "
                "write the results into"
            )
    return result


def evaluate_stage(params: Params, name: str) -> dict:
    """Re-score an experiment's predictions.csv (pooled over folds) without training."""
    return rescore(Path(params.train.out), name)
