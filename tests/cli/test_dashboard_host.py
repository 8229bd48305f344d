"""`lossdb dashboard --host`: loopback unless an address is given explicitly, with a warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from lossdb.core.store import open_store

from ..store.test_store import make_run


@pytest.mark.parametrize("host", ["", "  ", "example.com", "my-laptop", "0"])
def test_a_host_that_is_not_an_address_is_refused_before_serving(tmp_path: Path, host: str) -> None:
    from typer.testing import CliRunner

    from lossdb.cli.main import app

    db = tmp_path / "d.db"
    with open_store(str(db)) as store:
        store.upsert_experiment("A", "a", {})
        store.save_runs([make_run("A")])
    result = CliRunner().invoke(app, ["dashboard", "--host", host, "--db", str(db)])
    assert result.exit_code == 1 and "is not an IP address" in result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


def test_loopback_is_quiet_and_any_other_address_warns_that_the_data_is_readable() -> None:
    from lossdb.cli.commands_dashboard import exposure

    assert exposure("127.0.0.1", 8501) is None and exposure("localhost", 8501) is None and exposure("::1", 1) is None
    for host in ("0.0.0.0", "192.168.1.5", "::"):
        warning = exposure(host, 8502)
        assert warning is not None and "anyone who can reach that port can read" in warning and "8502" in warning

