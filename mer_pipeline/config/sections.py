"""The params.yaml sections of the data stages: synth, datasets, labels, index, faces, cache, and where tasks run."""

from dataclasses import dataclass, field
from typing import Any

from mer_pipeline.config.base import check_choice, check_ranges
from mer_pipeline.errors import UserError


@dataclass(frozen=True)
class SynthParams:
    """The embedded synthetic dataset (CASME II layout) generated from skimage's astronaut photograph."""

    out: str = "data/raw/synthetic"
    seed: int = 0
    subjects: int = 4
    clips_per_class: int = 2
    classes: tuple[str, ...] = ("happiness", "surprise", "disgust", "repression")
    frames: int = 24
    image_size: int = 320
    amplitude_px: float = 3.0
    noise_sigma: float = 2.0
    head_translation_px: float = 3.0
    head_rotation_deg: float = 1.0
    head_scale: float = 0.01
    head_jerk_px: float = 2.0
    head_jerk_prob: float = 0.3
    head_model: str = "2d"  # 2d: similarity motion | 3d: a turning 3D head mesh seen by a camera (synth/mesh.py)
    head_yaw_deg: float = 0.0  # 3d only: largest turn about the vertical axis within a clip
    head_pitch_deg: float = 0.0  # 3d only: largest nod
    flicker: float = 0.02
    jpeg_quality: int = 95

    def __post_init__(self):
        check_choice("synth.head_model", self.head_model, ("2d", "3d"))
        check_ranges(
            "synth",
            self,
            {
                "head_yaw_deg": "[0, 30]",
                "head_pitch_deg": "[0, 30]",
                "seed": "[0, inf)",
                "subjects": "[1, 100]",
                "clips_per_class": "[1, 100]",
                "frames": "[8, 1000]",
                "image_size": "[128, 2048]",
                "amplitude_px": "[0, 20]",
                "noise_sigma": "[0, 50]",
                "head_translation_px": "[0, 50]",
                "head_rotation_deg": "[0, 20]",
                "head_scale": "[0, 0.2]",
                "head_jerk_px": "[0, 20]",
                "head_jerk_prob": "[0, 1]",
                "flicker": "[0, 0.5]",
                "jpeg_quality": "[1, 100]",
            },
        )


@dataclass(frozen=True)
class PipelineParams:
    """What `dvc repro` builds: the datasets (index, faces, spotting, every modality store, preview of each) and the
    experiment groups (a train stage each, and the report over them). dvc.yaml iterates over these two lists."""

    datasets: tuple[str, ...] = ("synthetic",)
    experiments: tuple[str, ...] = ()

    def __post_init__(self):
        for key, names in (("datasets", self.datasets), ("experiments", self.experiments)):
            if len(set(names)) != len(names):
                raise UserError(f"params pipeline.{key}: names listed twice in {list(names)}")
        if not self.datasets:
            raise UserError("params pipeline.datasets: list at least one dataset")


@dataclass(frozen=True)
class DatasetParams:
    """Where one dataset lives and which adapter and label table read it.

    `frames_dir` and `sheet` are relative to `root`; left empty, the adapter finds them by their distributed names.
    """

    adapter: str
    root: str
    fps: float
    labels: str
    frames_dir: str = ""
    sheet: str = ""


@dataclass(frozen=True)
class LabelTable:
    """Emotion -> class mappings of one dataset (emotions are lower-cased before lookup)."""

    emotions: tuple[str, ...]
    three_class: dict[str, str]
    five_class: dict[str, str] = field(default_factory=dict)
    five_class_names: tuple[str, ...] = ()


THREE_CLASS_NAMES = ("negative", "positive", "surprise")


@dataclass(frozen=True)
class IndexParams:
    """min_frames: clips with fewer frames from onset to offset are excluded (a problem row): every modality needs
    onset, apex and offset to be distinct frames."""

    out: str = "data/index"
    verify_frames: bool = True
    min_frames: int = 3

    def __post_init__(self):
        check_ranges("index", self, {"min_frames": "[2, 100000]"})


@dataclass(frozen=True)
class FacesParams:
    """Face alignment, stabilisation and equalisation; positions and margins are fractions of the output size.

    crop: `landmarks` scales the face so that brows to chin span the output between `margin_top` and
    `margin_bottom` (eyes level, centred); `eyes` puts the eye centres `eye_distance` apart at `eye_y`.
    stabilise: none | landmarks | registration | registration_3d (faces/stabilise.py, faces/depth.py); tracking checks
    every `check_every` frames.
    on_tracking_problem: what a clip whose face is lost or whose registration fails gets: flag (kept, reported)
    or exclude (skipped, reported).
    """

    out: str = "data/faces"
    reference: str = "onset"
    size: int = 224
    crop: str = "landmarks"
    margin_top: float = 0.06
    margin_bottom: float = 0.04
    eye_distance: float = 0.38
    eye_y: float = 0.38
    max_faces: int = 4
    stabilise: str = "registration_3d"
    registration_passes: int = 1
    registration_preset: str = "medium"  # DIS preset of the registration flow: ultrafast | fast | medium
    registration_stride: int = 4  # DIS patch stride, px; 0: the preset's own (medium's is 3)
    registration_size: int = 224  # side (px) of the canvas the registration runs on
    forehead: bool = True
    check_every: int = 8
    check_tolerance_px: float = 2.5  # calibrated on the synthetic 3D set (docs/faces.md)
    min_score: float = 0.3
    max_motion_px: float = 20.0
    on_tracking_problem: str = "flag"
    equalise: str = "clahe"
    clahe_clip: float = 2.0
    clahe_tiles: int = 8
    min_detection_confidence: float = 0.5

    def __post_init__(self):
        check_choice("faces.reference", self.reference, ("onset", "apex"))
        check_choice("faces.crop", self.crop, ("landmarks", "eyes"))
        check_choice("faces.stabilise", self.stabilise, ("none", "landmarks", "registration", "registration_3d"))
        check_choice("faces.registration_preset", self.registration_preset, ("ultrafast", "fast", "medium"))
        check_choice("faces.on_tracking_problem", self.on_tracking_problem, ("flag", "exclude"))
        check_choice("faces.equalise", self.equalise, ("none", "global", "clahe"))
        check_ranges(
            "faces",
            self,
            {
                "size": "[32, 2048]",
                "registration_size": "[32, 2048]",
                "registration_passes": "[1, 10]",
                "registration_stride": "[0, 8]",
                "max_faces": "[1, 100]",
                "check_every": "[0, inf)",
                "check_tolerance_px": "(0, inf)",
                "min_score": "[0, 1]",
                "max_motion_px": "(0, inf)",
                "margin_top": "[0, 0.3]",
                "margin_bottom": "[0, 0.3]",
                "eye_distance": "[0.1, 0.8]",
                "eye_y": "[0.1, 0.7]",
                # OpenCV's CLAHE divides by the tile count (0 tiles: SIGFPE); a clip limit <= 0 is no limit at all
                "clahe_clip": "(0, 100]",
                "clahe_tiles": "[1, 64]",
                "min_detection_confidence": "[0, 1]",
            },
        )


SPOT_REGIONS = ("brows", "eyes", "nose", "mouth")


@dataclass(frozen=True)
class SpottingParams:
    """Apex spotting from the aligned faces and the annotation audit (spotting/).

    The motion curve of a region is the mean dense-flow magnitude (onset -> each frame) inside it; regions are grown
    by `grow` eye distances; the curve is smoothed with a Gaussian of `smooth_seconds` (in frames: times the fps).
    A peak under `min_peak_ratio` times the dataset's noise floor is "no motion"; the audit flags a spotted apex
    farther than `audit_apex_seconds` (at least 2 frames) from the annotated one.
    """

    out: str = "data/spotting"
    metrics: str = "reports/metrics"
    curves: str = "data/curves"  # each clip's motion curves as an engine entry, kept across runs (not a DVC output)
    regions: tuple[str, ...] = ("brows", "nose", "mouth")
    grow: float = 0.15
    smooth_seconds: float = 0.004
    min_peak_ratio: float = 3.0
    audit_apex_seconds: float = 0.025
    audit_plots: int = 12

    def __post_init__(self):
        unknown = [r for r in self.regions if r not in SPOT_REGIONS]
        if unknown or not self.regions:
            raise UserError(f"spotting.regions must be a non-empty list of {', '.join(SPOT_REGIONS)}, got {unknown}")
        check_ranges(
            "spotting",
            self,
            {
                "grow": "[0, 2]",
                "smooth_seconds": "[0, 1]",
                "min_peak_ratio": "(0, inf)",
                "audit_apex_seconds": "[0, 10]",
                "audit_plots": "[0, 10000]",
            },
        )


@dataclass(frozen=True)
class CacheParams:
    """The shared cache: a local path, a network-filesystem path or an fsspec URL; empty = no shared cache.
    The commands let the environment variables MER_PIPELINE_CACHE (url) and MER_PIPELINE_CACHE_OPTIONS (JSON)
    override them (cli/common.py); the library reads no environment."""

    url: str = ""
    storage_options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scale:
    """Where per-clip tasks run: in this process (default), a local dask cluster of `workers` processes, or an
    existing dask scheduler at `scheduler`."""

    workers: int = 0
    scheduler: str = ""
