"""`lossdb run --device`: cuda without PyTorch or a GPU is one sentence, nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from lossdb.cli.main import app
from typer.testing import CliRunner


def _has_gpu() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.mark.skipif(_has_gpu(), reason="this machine has a CUDA GPU")
def test_device_cuda_without_a_gpu_is_one_sentence_and_stores_nothing(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    result = CliRunner().invoke(app, ["run", "saturation", "--device", "cuda", "--db", str(db)])
    assert result.exit_code == 1
    assert "--device cuda" in result.output and "--device cpu" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert not db.exists()


def test_an_unknown_device_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", "saturation", "--device", "tpu", "--db", str(tmp_path / "d.db")])
    assert result.exit_code == 1
    assert "--device must be one of cpu, cuda, auto, got 'tpu'" in result.output
