"""The CLI as a user runs it: typer's runner for --help, `main` for exit codes and messages, and one end-to-end run
of synth -> index -> faces on a tiny synthetic dataset."""

import json
from pathlib import Path

import pytest
import yaml
from conftest import REPO, TINY_SYNTH
from typer.testing import CliRunner

from mer_pipeline.cli.app import app, main
from mer_pipeline.store import faces as faces_store


@pytest.mark.parametrize("command", [[], ["synth"], ["index"], ["faces"], ["modalities"], ["preview"]])
def test_help_everywhere(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def _params(tmp_path, **overrides):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["synth"].update(TINY_SYNTH, out=str(tmp_path / "synthetic"))
    params["datasets"]["synthetic"]["root"] = str(tmp_path / "synthetic")
    params["index"]["out"] = str(tmp_path / "index")
    params["faces"].update(out=str(tmp_path / "faces"), size=96)
    params["modalities"].update(out=str(tmp_path / "modalities"), size=64)
    for key, value in overrides.items():
        params[key].update(value)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def run_cli(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main(app, [*args])
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_missing_root_is_one_line_error(tmp_path, capsys):
    code, out, err = run_cli(
        capsys, "index", "--dataset", "casme2", "--root", str(tmp_path / "nowhere"), "--params", str(_params(tmp_path))
    )
    assert code == 2 and out == ""
    assert (
        err.strip()
        == f"error: {tmp_path / 'nowhere'}: dataset root not found (expected the casme2 folder as distributed)"
    )
    assert "Traceback" not in err


def test_unknown_param_key_is_one_line_error(tmp_path, capsys):
    code, _, err = run_cli(capsys, "synth", "--params", str(_params(tmp_path, synth={"framez": 3})))
    assert code == 2 and "params synth: unknown key(s) framez" in err and len(err.strip().splitlines()) == 1


def test_index_reports_broken_clips_and_indexes_the_rest(tmp_path, capsys):
    from layouts import casme2_tree

    expect = casme2_tree(tmp_path / "casme")
    code, out, err = run_cli(
        capsys,
        "index",
        "--dataset",
        "casme2",
        "--root",
        str(tmp_path / "casme"),
        "--params",
        str(_params(tmp_path)),
        "--json",
    )
    assert code == 0
    result = json.loads(out)
    assert result["clips"] == sum(o != "excluded" for o in expect.values())
    for clip_id, outcome in expect.items():
        if outcome == "excluded":
            assert any(line.startswith(f"casme2 {clip_id}:") for line in result["problems"]), clip_id
            assert clip_id in err
    problems_csv = (tmp_path / "index" / "casme2" / "problems.csv").read_text()
    assert "sub04/EP05_03f" in problems_csv


@pytest.mark.slow
def test_end_to_end_synth_index_faces(tmp_path, capsys):
    params = str(_params(tmp_path))
    assert run_cli(capsys, "synth", "--params", params)[0] == 0
    code, out, _ = run_cli(capsys, "index", "--dataset", "synthetic", "--params", params, "--json")
    assert code == 0 and json.loads(out)["clips"] == 8 and json.loads(out)["problems"] == []
    code, out, _ = run_cli(capsys, "faces", "--dataset", "synthetic", "--params", params, "--json")
    result = json.loads(out)
    assert code == 0 and result["computed"] == 8 and result["skipped"] == 0
    root = faces_store.open_existing(tmp_path / "faces" / "synthetic" / "faces.zarr")
    assert len(list(faces_store.complete_entries(root))) == 8
    assert root.attrs["kind"] == "faces" and root.attrs["dataset"] == "synthetic"
    rows = (tmp_path / "faces" / "synthetic" / "quality.csv").read_text().splitlines()
    assert len(rows) == 9 and rows[0].startswith("clip_id,frames,reference_index,stabilise")
    method = yaml.safe_load(Path(params).read_text())["faces"]["stabilise"]  # the params' method, in every row
    assert method == "registration_3d" and all(f",{method}," in r for r in rows[1:])
    residual = rows[0].split(",").index("residual_after_px")
    measured = [float(r.split(",")[residual]) for r in rows[1:]]
    assert measured == sorted(measured, reverse=True)  # worst first
    from PIL import Image

    assert Image.open(tmp_path / "faces" / "synthetic" / "quality.png").size[1] == 18 + 8 * 112
    code, out, _ = run_cli(capsys, "faces", "--dataset", "synthetic", "--params", params, "--json")
    assert json.loads(out)["kept"] == 8  # a rerun computes nothing
    code, out, _ = run_cli(
        capsys, "modalities", "--dataset", "synthetic", "--params", params, "--device", "cpu", "--json"
    )
    results = {r["modality"]: r for r in json.loads(out)["modalities"]}
    assert code == 0 and set(results) == {
        "apex_frame",
        "mesti",
        "dynamic_image",
        "active_image",
        "affective_image",
        "optical_flow",
    }
    assert all(r["computed"] == 8 for r in results.values())
    code, out, _ = run_cli(capsys, "modalities", "-d", "synthetic", "--params", params, "-m", "mesti", "--json")
    assert [r["computed"] for r in json.loads(out)["modalities"]] == [0]  # only what is missing or stale
    png = tmp_path / "preview.png"
    code, out, _ = run_cli(capsys, "preview", "-d", "synthetic", "--params", params, "--out", str(png), "--json")
    assert code == 0 and json.loads(out)["rows"] == 4 and Image.open(png).size == (110 + 6 * 160, 22 + 4 * 160)


def test_modalities_without_faces_is_one_line_error(tmp_path, capsys):
    code, _, err = run_cli(capsys, "modalities", "-d", "synthetic", "--params", str(_params(tmp_path)))
    assert code == 2 and "faces store not found (run `mer-pipeline faces` first)" in err
    assert len(err.strip().splitlines()) == 1


def test_the_cli_answers_help_without_heavy_imports():
    """Importing the CLI (every command module) loads neither torch, mediapipe nor zarr: they are imported inside the
    commands that use them."""
    import subprocess
    import sys

    code = (
        "import sys, mer_pipeline.cli.app as a; a.app(['faces', '--help'], standalone_mode=False); "
        "print(sorted(m for m in ('torch', 'mediapipe', 'zarr', 'cv2', 'dask') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
