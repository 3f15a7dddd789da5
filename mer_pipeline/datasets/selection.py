"""What params.yaml `pipeline` selects, checked before any stage computes, and each dataset's raw folder as DVC sees it.

`dvc repro` builds the datasets of `pipeline.datasets` and trains the groups of `pipeline.experiments`. The check
stage stops on a bad choice with one line naming the key; it writes one small file per selected dataset (what that
dataset's stages depend on), so a change to one dataset's params reruns that dataset's stages only.

`data/raw/<dataset>` is the dataset's raw folder inside the repository: the synthetic dataset is generated there
(its root is `synth.out`); a real dataset's is a symbolic link to its root. Every stage that reads raw files depends
on that path, so DVC hashes the files behind the link: a changed sheet or frame reruns the dataset's index and what
follows. The link is replaced atomically; the user's folder is only ever read.
"""

import json
import os
from dataclasses import asdict
from pathlib import Path

from mer_pipeline.config import APEX_VARIANT_STORES, Params, input_store
from mer_pipeline.errors import UserError
from mer_pipeline.problems import ProblemLog


def is_generated(params: Params, name: str) -> bool:
    """Whether dataset `name` is the synthetic one the pipeline generates (its root is `synth.out`)."""
    return Path(params.dataset(name).root) == Path(params.synth.out)


def check_experiments(params: Params) -> None:
    """Each group of `pipeline.experiments` exists and reads only selected datasets and known stores."""
    selected = set(params.pipeline.datasets)
    stores = set(params.modalities.names) | set(APEX_VARIANT_STORES)
    for group in params.pipeline.experiments:
        if group not in params.experiments:
            raise UserError(
                f"params pipeline.experiments: unknown experiment group {group!r} "
                f"(params experiments: {', '.join(sorted(params.experiments))})"
            )
        for name, exp in params.experiments[group].items():
            missing = [d for d in exp.datasets if d not in selected]
            if missing:
                raise UserError(
                    f"params pipeline.experiments: {name} reads datasets {missing} that are not in "
                    f"pipeline.datasets {sorted(selected)}"
                )
            unknown = [m for m in exp.modalities if input_store(m)[0] not in stores]
            if unknown:
                raise UserError(
                    f"params experiments.{group}: modalities {unknown} are not stores dvc repro builds "
                    f"({', '.join(sorted(stores))})"
                )


def check_dataset(params: Params, name: str) -> dict:
    """The dataset's root exists and holds its adapter's layout; returns what its stages depend on (its params and
    label table, the resolved root)."""
    from mer_pipeline.datasets import ADAPTERS

    key = f"datasets.{name}"
    if name not in params.datasets:
        raise UserError(
            f"params pipeline.datasets: unknown dataset {name!r} "
            f"(params datasets: {', '.join(sorted(params.datasets))})"
        )
    d = params.datasets[name]
    if d.adapter not in ADAPTERS:
        raise UserError(f"params {key}.adapter: unknown adapter {d.adapter!r} (known: {', '.join(ADAPTERS)})")
    generated = is_generated(params, name)
    root = Path(d.root)
    if not generated:
        if not root.is_dir():
            raise UserError(f"params {key}.root: {root} is not a folder (set it to where {name} is)")
        if root.resolve().is_relative_to(Path("data/raw").resolve()):
            raise UserError(f"params {key}.root: {root} is inside data/raw, which the pipeline writes")
        try:
            found = ADAPTERS.get(d.adapter).scan(root, d, ProblemLog(name))
        except UserError as err:
            raise UserError(f"params {key}.root: {err}") from None
        if not found:
            raise UserError(f"params {key}.root: {root} holds no clip of the {d.adapter} layout")
    return {
        "dataset": name,
        "generated": generated,
        "root": str(root if generated else root.resolve()),
        "params": asdict(d),
        "labels": asdict(params.labels_of(name)),
    }


def check_stage(params: Params, out: Path) -> dict:
    """Check the whole selection, then write `<out>/<dataset>.json` for each selected dataset (and only those)."""
    check_experiments(params)
    checked = [check_dataset(params, name) for name in params.pipeline.datasets]
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.json"):
        old.unlink()
    for entry in checked:
        (out / f"{entry['dataset']}.json").write_text(json.dumps(entry, indent=2, sort_keys=True) + "\n")
    return {"datasets": len(checked), "experiments": len(params.pipeline.experiments), "out": str(out)}


def link_raw(root: Path, link: Path) -> None:
    """Point `link` at `root` (absolute), replacing an earlier link atomically; refuse to replace anything else."""
    if link.exists() and not link.is_symlink():
        raise UserError(f"{link}: exists and is not a link the pipeline made; move it away")
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".{link.name}.tmp")
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(root.resolve(), tmp, target_is_directory=True)
    os.replace(tmp, link)
