"""The annotation audit: per clip, where the annotation and the motion disagree, as a table and a figure a lab can
send to a dataset's owners.

Flags (each names the frames):
- no motion above the noise floor inside onset..offset (peak under `min_peak_ratio` x the dataset's floor);
- the annotated apex far from the motion peak (over `audit_apex_seconds`, at least 2 frames);
- the motion peaks on the offset frame: the movement may run past the window, or began before the onset (the curve
  is relative to the onset frame, so a window that starts after the true apex rises towards its end);
- too short to spot (under 3 frames).
The faces store holds onset..offset only, so a peak outside the window shows as one on its edge.
"""

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from mer_pipeline.store.spots import SpotRow  # noqa: E402

AUDIT_COLUMNS = ("clip_id", "index_apex", "index_source", "spotted_apex", "difference_frames", "peak", "floor", "flags")
MIN_FRAMES = 3


def moved(peak: float, frames: int, dataset_floor: float, min_ratio: float) -> bool:
    """Whether a clip shows motion to spot: long enough, and its peak at least min_ratio x the dataset's floor."""
    return frames >= MIN_FRAMES and peak >= min_ratio * dataset_floor


def flags_of(row: SpotRow, frames: int, dataset_floor: float, min_ratio: float, tolerance: int) -> list[str]:
    if frames < MIN_FRAMES:
        return [f"too short to spot ({frames} frames)"]
    if not moved(row.peak, frames, dataset_floor, min_ratio):
        return [
            f"no motion above the noise floor in {row.onset}..{row.offset} (peak {row.peak:.3f} px, floor "
            f"{dataset_floor:.3f} px)"
        ]
    found = []
    gap = row.peak_frame - row.index_apex
    if row.index_source == "annotated" and abs(gap) > tolerance:
        found.append(f"annotated apex {row.index_apex} is {abs(gap)} frames from the motion peak {row.peak_frame}")
    if row.peak_frame == row.offset:
        found.append(
            f"motion peaks on the offset frame {row.offset}: the movement may run past the window or begin "
            "before the onset"
        )
    return found


def severity(row: SpotRow) -> tuple:
    """Sort key, worst first: flagged, then farthest from the annotated apex, then clip id."""
    return (not row.flags, -abs(row.peak_frame - row.index_apex), row.clip_id)


def write_audit(out_dir: Path, rows: list[SpotRow], curves: dict[str, np.ndarray], plots: int) -> None:
    """audit.csv (every clip, worst first) and audit.png (the curves of the `plots` worst)."""
    ranked = sorted(rows, key=severity)
    with open(out_dir / "audit.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(AUDIT_COLUMNS)
        for r in ranked:
            writer.writerow(
                [
                    r.clip_id,
                    r.index_apex,
                    r.index_source,
                    r.spotted_apex,
                    r.peak_frame - r.index_apex,
                    r.peak,
                    r.floor,
                    r.flags,
                ]
            )
    shown = ranked[:plots]
    cols = min(4, max(len(shown), 1))
    lines = max(1, -(-len(shown) // cols))
    fig, axes = plt.subplots(lines, cols, figsize=(3.2 * cols, 2.3 * lines), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, r in zip(axes.flat, shown):
        ax.axis("on")
        x = np.arange(r.onset, r.onset + len(curves[r.clip_id]))
        ax.plot(x, curves[r.clip_id], color="black", lw=1)
        ax.axvline(r.index_apex, color="tab:blue", ls="--", lw=1, label=f"{r.index_source} {r.index_apex}")
        ax.axvline(r.peak_frame, color="tab:red", lw=1, label=f"motion peak {r.peak_frame}")
        ax.set_title(f"{r.clip_id} ({r.region})", fontsize=8, color="red" if r.flags else "black")
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=6, loc="upper left")
    fig.supxlabel("frame", fontsize=8)
    fig.supylabel("mean flow from onset, px", fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "audit.png", dpi=100)
    plt.close(fig)
