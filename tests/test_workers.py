"""The suite's own machinery for several xdist workers (tests/workers.py), with real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import workers

REPO = Path(__file__).resolve().parents[1]
# One process asking for the shared folder: its build records the process and takes a while, so that
# the others ask while it runs; FAIL=1 makes the build raise halfway, leaving a file behind.
ASK = """
import os, sys, time
from pathlib import Path
from tests.workers import shared_folder

def build(folder):
    if os.environ.get("FAIL"):
        (folder / "stale.txt").write_text("half a build")
        raise RuntimeError("the build failed")
    time.sleep(0.4)
    with open(Path(sys.argv[1]) / "builds.log", "a") as log:
        log.write(f"{os.getpid()}\\n")
    (folder / "result.txt").write_text(str(os.getpid()))

print(shared_folder(Path(sys.argv[1]), "thing", build))
"""


def ask(root: Path, fail: bool = False) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), **({"FAIL": "1"} if fail else {})}
    return subprocess.Popen([sys.executable, "-c", ASK, str(root)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def test_a_shared_folder_is_built_once_however_many_processes_ask_at_once(tmp_path: Path) -> None:
    procs = [ask(tmp_path) for _ in range(3)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert {out.strip() for out, _ in outputs} == {str(tmp_path / "thing")}
    builders = (tmp_path / "builds.log").read_text().split()
    assert len(builders) == 1
    assert (tmp_path / "thing" / "result.txt").read_text() == builders[0]


def test_a_build_that_failed_is_started_afresh_by_the_next_to_ask(tmp_path: Path) -> None:
    failed = ask(tmp_path, fail=True)
    _, err = failed.communicate(timeout=60)
    assert failed.returncode != 0 and "the build failed" in err
    assert (tmp_path / "thing" / "stale.txt").exists()
    again = ask(tmp_path)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert (tmp_path / "builds.log").read_text().split() == [(tmp_path / "thing" / "result.txt").read_text()]
    assert not (tmp_path / "thing" / "stale.txt").exists()


def test_available_cpus_follow_the_affinity_and_a_cgroup_quota(tmp_path: Path) -> None:
    affinity = len(os.sched_getaffinity(0))
    assert workers.available_cpus(()) == affinity
    quota = tmp_path / "cpu.max"
    quota.write_text("max 100000\n")
    assert workers.available_cpus([str(quota)]) == affinity
    quota.write_text("150000 100000\n")  # one and a half CPUs: two workers
    assert workers.available_cpus([str(quota)]) == min(affinity, 2)
    quota.write_text("50000 100000\n")
    assert workers.available_cpus([str(quota)]) == 1
    assert workers.available_cpus([str(tmp_path / "absent")]) == affinity
