"""PNG figures for the report: confusion matrices and MEGANet gradient-attention maps over MESTI inputs."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def confusion_png(confusion: list[list[int]], class_names: list[str], title: str, path: Path) -> None:
    m = np.asarray(confusion)
    fig, ax = plt.subplots(figsize=(1.2 + 0.7 * len(m), 1.0 + 0.7 * len(m)))
    ax.imshow(m, cmap="Blues")
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, str(v), ha="center", va="center", color="white" if v > m.max() / 2 else "black")
    ax.set_xticks(range(len(m)), class_names, rotation=45, ha="right")
    ax.set_yticks(range(len(m)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    _save(fig, path)


def attention_png(images: np.ndarray, maps: np.ndarray, labels: list[str], title: str, path: Path) -> None:
    """images (N, 3, S, S) uint8 MESTI inputs; maps (N, S, S) in [0, 1] gradient-attention maps."""
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(2.2 * n, 4.6), squeeze=False)
    for i in range(n):
        axes[0, i].imshow(images[i].transpose(1, 2, 0))
        axes[0, i].set_title(labels[i], fontsize=8)
        axes[1, i].imshow(images[i].transpose(1, 2, 0).mean(-1), cmap="gray")
        axes[1, i].imshow(maps[i], cmap="jet", alpha=0.5)
        for ax in axes[:, i]:
            ax.axis("off")
    fig.suptitle(title, fontsize=9)
    _save(fig, path)


@torch.no_grad()
def gradient_attention_maps(model, x: torch.Tensor) -> np.ndarray:
    """MEGANet's gradient-attention map A for inputs x (N, C, S, S) already normalised -> (N, S, S)."""
    model.eval()
    return model.gradient_attention.attention_map(x)[:, 0].numpy()


def per_fold_png(folds: dict[str, dict], title: str, path: Path) -> None:
    """Bar chart of ACC per held-out subject (mean over seeds, std as error bar), clip counts on the bars."""
    names = list(folds)
    fig, ax = plt.subplots(figsize=(1.0 + 0.5 * len(names), 2.8))
    ax.bar(
        range(len(names)),
        [folds[n]["acc"] for n in names],
        yerr=[folds[n]["acc_std"] for n in names],
        color="#4a7fb5",
        capsize=3,
    )
    for i, n in enumerate(names):
        ax.text(i, 0.02, str(folds[n]["n"]), ha="center", va="bottom", color="white", fontsize=7)
    ax.set_xticks(range(len(names)), [n.split("/")[-1] for n in names], rotation=90, fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("ACC")
    ax.set_title(title, fontsize=9)
    _save(fig, path)


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
