"""`mer-pipeline spot`."""

from pathlib import Path

from mer_pipeline.cli.common import DatasetOpt, JsonOpt, ParamsOpt, console, load, report


def spot(dataset: DatasetOpt, params: ParamsOpt = Path("params.yaml"), as_json: JsonOpt = False) -> None:
    """Spot each clip's apex from the motion of its aligned faces, and audit the annotation: an apex table the
    modalities can use (modalities.apex), audit.csv / audit.png of the clips where annotation and motion disagree."""
    from mer_pipeline.progress import bar
    from mer_pipeline.spotting.stage import spot_stage

    p = load(params)
    result = spot_stage(
        dataset, p.faces, p.spotting, p.dataset(dataset).root, progress=bar(f"spot {dataset}"), cache=p.cache
    )
    report(result, as_json, "spot")
    for against in ("vs_truth", "vs_annotated"):
        if result.get(against, {}).get("clips"):
            e = result[against]
            console.print(
                f"  apex {against.replace('_', ' ')}: MAE {e['mae_frames']:.2f} frames, "
                f"{100 * e['within_2']:.1f} % within +-2 frames ({e['clips']} clips)",
                highlight=False,
            )
