"""Report sections beside the paper's tables: which subjects carry the score (per fold), and what made each result
(provenance)."""

import csv
import json
import re
from collections import defaultdict
from pathlib import Path

from mer_pipeline.evaluation.figures import per_fold_png


def per_subject_blocks(results: list[dict], out: Path) -> list[tuple]:
    """Per held-out subject (LOSO fold): clips, ACC and UF1 as mean ± std over seeds; a table and a plot each."""
    blocks = [("h2", "Per subject (LOSO folds): clips, ACC and UF1, mean ± std over seeds")]
    for r in results:
        if r["config"]["protocol"] != "loso":
            continue
        folds = r["per_fold"]
        blocks.append(
            (
                "table",
                [f"{r['experiment']}: held-out subject", "clips", "ACC", "UF1"],
                [
                    [name, f["n"], f"{f['acc']:.3f} ± {f['acc_std']:.3f}", f"{f['uf1']:.3f} ± {f['uf1_std']:.3f}"]
                    for name, f in folds.items()
                ],
            )
        )
        png = out / "figures" / f"folds_{r['experiment']}.png"
        per_fold_png(folds, r["experiment"], png)
        blocks.append(("img", f"per-subject ACC — {r['experiment']}", png.relative_to(out)))
    return blocks


def write_plot_tables(results: list[dict], out: Path) -> None:
    """CSVs for `dvc plots show` (dvc.yaml's top-level plots): `plots/train_loss/<experiment>.csv` (epoch, the loss
    averaged over seeds and folds) and, per LOSO experiment, `plots/per_subject/<experiment>.csv` (held-out subject,
    clips, ACC and UF1 means over seeds)."""
    for r in results:
        losses = defaultdict(list)
        with open(r["folder"] / "train_loss.csv", newline="") as fh:
            for row in csv.DictReader(fh):
                losses[int(row["epoch"])].append(float(row["loss"]))
        _write_csv(
            out / "plots" / "train_loss" / f"{r['experiment']}.csv",
            ["epoch", "loss"],
            [[e, f"{sum(v) / len(v):.5f}"] for e, v in sorted(losses.items())],
        )
        if r["config"]["protocol"] == "loso":
            _write_csv(
                out / "plots" / "per_subject" / f"{r['experiment']}.csv",
                ["subject", "clips", "acc", "uf1"],
                [[name, f["n"], f"{f['acc']:.4f}", f"{f['uf1']:.4f}"] for name, f in r["per_fold"].items()],
            )


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])


def provenance_blocks(results: list[dict]) -> list[tuple]:
    """One row per experiment: code identity, params hash, input stores, libraries, device, seeds."""
    rows = []
    for r in results:
        p = r["provenance"]
        inputs = "; ".join(
            f"{i['modality']} params {i['params_hash']} faces {i['faces_sha256'][:12]}" for i in p["inputs"]
        )
        libs = ", ".join(f"{k} {v}" for k, v in p["libraries"].items())
        rows.append(
            [r["experiment"], p["code"], p["params_hash"], inputs, libs, p["device"], ",".join(map(str, p["seeds"]))]
        )
    return [
        ("h2", "Provenance"),
        (
            "p",
            "code = the content hash of the train stage's import closure and library versions "
            "(mer_pipeline/identity.py); inputs = each modality store's params hash and faces digest; the "
            "commit is the one whose dvc.lock records these outputs.",
        ),
        ("table", ["experiment", "code", "params hash", "inputs", "libraries", "device", "seeds"], rows),
    ]


def results_table(results: list[dict]) -> str:
    """The default run's results as a Markdown table (mean ± std over seeds), for the README and the docs."""
    lines = [
        "| experiment | model | input | protocol | classes | ACC | UF1 | UAR | clips | seeds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        c = r["config"]
        lines.append(
            f"| {r['experiment']} | {c['model']} | {'+'.join(c['modalities'])} | {c['protocol']} | "
            f"{c['classes']} | "
            + " | ".join(f"{r[k]:.3f} ± {r[k + '_std']:.3f}" for k in ("acc", "uf1", "uar"))
            + f" | {r['n']} | {len(r['seeds'])} |"
        )
    return "\n".join(lines)


def replace_block(text: str, name: str, body: str) -> str | None:
    """`text` with `body` between the marks `<!-- name:begin -->` and `<!-- name:end -->`, indented as the begin mark
    is (a block inside a list item stays in it); None where `text` has no such marks. The one syntax of generated
    blocks: the report's (`results`, `spotting`) and the benchmarks' (`bench:<stem>`)."""
    mark = re.escape(name)
    found = re.search(rf"^([ \t]*)<!-- {mark}:begin -->\n(.*?)^[ \t]*<!-- {mark}:end -->", text, flags=re.S | re.M)
    if not found:
        return None
    indent = found.group(1)
    lines = "\n".join(indent + line if line else "" for line in body.rstrip("\n").split("\n"))
    block = f"{indent}<!-- {name}:begin -->\n{lines}\n{indent}<!-- {name}:end -->"
    return text[: found.start()] + block + text[found.end() :]


def update_block(path: Path, name: str, body: str) -> bool:
    """Write `body` into the block `name` of the file `path` (replace_block); False where the file has no such block."""
    text = Path(path).read_text()
    new = replace_block(text, name, body)
    if new is None:
        return False
    if new != text:
        Path(path).write_text(new)
    return True


SPOT_HEADER = [
    "dataset",
    "clips",
    "MAE vs truth (frames)",
    "within ±2 vs truth",
    "MAE vs sheet (frames)",
    "within ±2 vs sheet",
    "no motion",
    "flagged by the audit",
]


def spotting_rows(metrics_dir: Path) -> list[list]:
    """One row per dataset with a spotting_<dataset>.json in `metrics_dir` (the spotting stage's metrics)."""
    rows = []
    for path in sorted(Path(metrics_dir).glob("spotting_*.json")):
        m = json.loads(path.read_text())
        cells = []
        for against in ("vs_truth", "vs_annotated"):
            e = m.get(against, {})
            cells += [f"{e['mae_frames']:.2f}", f"{100 * e['within_2']:.1f} %"] if e.get("clips") else ["—", "—"]
        rows.append([path.stem.removeprefix("spotting_"), m["clips"], *cells, m["no_motion"], m["flagged"]])
    return rows


def spotting_blocks(metrics_dir: Path) -> list[tuple]:
    rows = spotting_rows(metrics_dir)
    if not rows:
        return []
    return [
        ("h2", "Apex spotting"),
        ("table", SPOT_HEADER, rows),
        (
            "p",
            "Spotted apex against the dataset's ground truth (the synthetic one) and against its sheet; 'no "
            "motion': clips whose motion stays under the noise floor (their spotted apex is the middle frame). "
            "Per clip: data/spotting/<dataset>/audit.csv and audit.png.",
        ),
    ]


def spotting_table(metrics_dir: Path) -> str:
    """The spotting results as a Markdown table, for the README and the docs."""
    lines = ["| " + " | ".join(SPOT_HEADER) + " |", "|" + "---|" * len(SPOT_HEADER)]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in spotting_rows(metrics_dir)])
