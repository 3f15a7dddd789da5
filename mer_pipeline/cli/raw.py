"""`mer-pipeline raw`: a dataset's raw folder as `dvc repro` sees it."""

from pathlib import Path

from mer_pipeline.cli.common import DatasetOpt, JsonOpt, OutOpt, ParamsOpt, load, report


def raw(
    dataset: DatasetOpt,
    out: OutOpt = Path("data/raw"),
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """The dataset's raw folder as `dvc repro` sees it: `<out>/<dataset>` is generated (the synthetic dataset, whose
    root is synth.out) or a link to the dataset's root (never written)."""
    from mer_pipeline.datasets.selection import is_generated, link_raw

    p = load(params)
    root = Path(p.dataset(dataset).root)
    if is_generated(p, dataset):
        from mer_pipeline.synth.generate import synth_stage

        result = synth_stage(p.synth)
    else:
        link_raw(root, out / dataset)
        result = {"dataset": dataset, "link": str(out / dataset), "root": str(root.resolve())}
    report(result, as_json, "raw")
