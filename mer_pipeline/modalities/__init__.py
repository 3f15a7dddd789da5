"""Input modalities: one file each, with one pure function clip (T, C, H, W) -> (C', H, W) that registers itself
(registry.py). Nothing here imports them all: a stage loads the modality it runs by name."""
