"""Emotion -> class ids, from the label tables of params.yaml (never hard-coded)."""

from mer_pipeline.config import THREE_CLASS_NAMES, LabelTable


def normalise_emotion(raw: object) -> str:
    return str(raw).strip().lower() if raw is not None else ""


def class_labels(emotion: str, table: LabelTable) -> tuple[int, str, int, str]:
    """(label3, label3_name, label5, label5_name) for a known emotion; -1 and '' where the mapping drops it."""
    name3 = table.three_class.get(emotion, "")
    name5 = table.five_class.get(emotion, "")
    label3 = THREE_CLASS_NAMES.index(name3) if name3 else -1
    label5 = table.five_class_names.index(name5) if name5 else -1
    return label3, name3, label5, name5
