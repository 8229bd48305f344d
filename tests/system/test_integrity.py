"""Nothing lost, nothing leaked (issue 15): every bad input of the hostile probe's classes is one
sentence, exit 1, no traceback and a byte-identical database; outputs never overwrite the database,
never hold half a file or a password, and never turn user text into markup."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from lossdb.core.present.numbers import plural
from lossdb.cli.main import app
from lossdb.core.experiments import spec as ex
from lossdb.core.runner import execute as runner
from lossdb.core.experiments import validate
from lossdb.core.errors import ConfigError
from lossdb.core.runner.executors import cpu_count
from lossdb.core.outfiles import atomic_open
from lossdb.core.report.html import _script_json
from lossdb.core.present.markdown import text as md_text
from lossdb.core.store import mask_url, open_store, resolve_url
from lossdb.core.store.engine import scrub, sqlite_path
from tests.system.test_bad_input import Case, lossdb_template, sha256, toml  # noqa: F401 (a fixture)
from tests.store.test_store import make_run

LOSSDB = str(Path(sys.executable).parent / "lossdb")
BASE = toml()  # the template database's experiment "bad": iris, ce/softmax, 2 epochs, 1 seed


def with_lines(*lines: str, base: str = BASE) -> str:
    """The template's experiment file with extra TOML lines appended (presets, sections)."""
    return base + "\n".join(lines) + "\n"


def arm_with(*lines: str) -> str:
    """The template's experiment file with extra keys in its [[arms]] table."""
    return BASE + "\n".join(lines) + "\n"


def named(name: str, body: str = BASE) -> str:
    """An experiment file under another name."""
    return body.replace('name = "bad"', f'name = "{name}"')


def grid(n: int) -> str:
    """A file whose grid has n × n combinations (n learning rates × n hidden widths)."""
    lrs = ", ".join(str(0.001 * (i + 1)) for i in range(n))
    widths = ", ".join(f"[{i + 1}]" for i in range(n))
    return named("grid", BASE.replace("[train]", f"[model]\nhidden = [{widths}]\n[train]\nlr = [{lrs}]"))


def bad_file(id_: str, body: str, message: str, *extra: str) -> Case:
    """`lossdb run --config x.toml` with this file body is refused with `message`."""
    return Case(id_, ("run", "--config", "{dir}/x.toml", *extra), message, (("x.toml", body),))


PRESET = "{dir}/x.toml, line 12: [presets.quick.train]"
CASES = [
    # item 4: preset tables are validated like everything else (the probe's payloads)
    bad_file("preset lr negative", with_lines("[presets.quick.train]", "lr = -1"),
             f"{PRESET} lr: must be a finite number > 0, got -1"),
    bad_file("preset batch_size 0", with_lines("[presets.quick.train]", "batch_size = 0"),
             f"{PRESET} batch_size: must be a whole number ≥ 1 or \"full\", got 0"),
    bad_file("preset momentum 5", with_lines("[presets.quick.train]", "momentum = 5.0"),
             f"{PRESET} momentum: must be a number in [0, 1), got 5.0"),
    bad_file("preset unknown key", with_lines("[presets.quick.train]", "learning_rate = 0.1"),
             f"{PRESET} learning_rate: unknown key; valid keys: optimizer, lr,"),
    bad_file("preset epochs negative", with_lines("[presets.quick.train]", "epochs = -5"),
             f"{PRESET} epochs: must be a whole number ≥ 1, got -5"),
    bad_file("preset unknown optimizer", with_lines("[presets.quick.train]", 'optimizer = "lbfgs"'),
             "{dir}/x.toml: unknown optimizer 'lbfgs'; valid: sgd, momentum, adam"),
    bad_file("preset hidden negative", with_lines("[presets.quick.model]", "hidden = [-4]"),
             "{dir}/x.toml, line 12: [presets.quick.model] hidden: must be a list of layer widths"),
    bad_file("preset unknown dataset", with_lines("[presets.quick.data]", 'dataset = "digitz"'),
             "{dir}/x.toml: unknown dataset 'digitz'; valid: "),
    bad_file("preset dtype int8", with_lines("[presets.quick.train]", 'dtype = "int8"'),
             f"{PRESET} dtype: must be \"float32\" or \"float64\", got 'int8'"),
    bad_file("preset lr nan", with_lines("[presets.quick.train]", "lr = nan"),
             f"{PRESET} lr: must be a finite number > 0, got nan"),
    bad_file("full preset checked under quick", with_lines("[presets.full.model]", "hidden = [0]"),
             "{dir}/x.toml, line 12: [presets.full.model] hidden: must be a list of layer widths"),
    # item 4: the same classes in the file's own sections and arms
    bad_file("lr zero", BASE.replace("epochs = 2", "epochs = 2\nlr = 0"),
             "{dir}/x.toml, line 7: [train] lr: must be a finite number > 0, got 0"),
    bad_file("lr empty list", BASE.replace("epochs = 2", "epochs = 2\nlr = []"),
             "[train] lr: an empty list plans no runs"),
    bad_file("epochs zero in a file", toml(epochs="0"), "[train] epochs: must be a whole number ≥ 1, got 0"),
    bad_file("hidden text", BASE.replace("[train]", '[model]\nhidden = "abc"\n[train]'),
             "[model] hidden: must be a list of layer widths (whole numbers ≥ 1) such as [30], or [] for none, got 'abc'"),
    bad_file("focal gamma negative", toml(loss="focal") + "gamma = -1\n",
             "[arms] gamma: must be a finite number ≥ 0, got -1"),
    bad_file("init_scale absurd", BASE.replace("[train]", "[model]\ninit_scale = 1e9\n[train]"),
             "[model] init_scale: must be a number in (0, 100], got 1000000000.0"),
    bad_file("class_weights bogus", arm_with('class_weights = "bogus"'),
             "[arms] class_weights: must be \"balanced\" or a list of one finite weight ≥ 0 per class, got 'bogus'"),
    bad_file("momentum nan in an arm", arm_with("momentum = nan"), "[train] momentum: must be a number in [0, 1), got nan"),
    bad_file("softmax head on a regression set", toml(dataset="diabetes"),
             "'diabetes' is a regression dataset, which head 'softmax' cannot fit; valid: linear, sigmoid"),
    Case("softmax head on a regression csv", ("run", "--config", "{dir}/x.toml"),
         "csv:{dir}/r.csv is a regression dataset, which head 'softmax' cannot fit; valid: linear, sigmoid",
         (("x.toml", toml(dataset="csv:{dir}/r.csv").replace("[train]", 'task = "regression"\n[train]')),
          ("r.csv", "a,target\n" + "".join(f"{i},{i * 0.37:.2f}\n" for i in range(20))))),
    Case("the same file twice", ("run", "-c", "{dir}/x.toml", "-c", "{dir}/x.toml"),
         "experiment 'bad' is given twice ({dir}/x.toml and {dir}/x.toml): give each experiment once",
         (("x.toml", BASE),)),
    # item 5: non-finite settings
    bad_file("lr inf", BASE.replace("epochs = 2", "epochs = 2\nlr = inf"), "[train] lr: must be a finite number > 0, got inf"),
    bad_file("lr -inf in an arm", arm_with("lr = -inf"), "[train] lr: must be a finite number > 0, got -inf"),
    bad_file("huber delta inf", toml(loss="huber", head="linear") + "delta = inf\n",
             "[arms] delta: must be a finite number > 0, got inf"),
    # item 3: the catalogue's names are reserved; a changed definition needs --force
    bad_file("catalogue name", named("convergence"),
             "{dir}/x.toml: the name 'convergence' belongs to a catalogue experiment, which yours changes ("),
    bad_file("catalogue name beside it", named("calibration"), "or pass --force to run it under that name",
             "convergence"),
    bad_file("changed definition", toml(epochs="3"),
             "{dir}/x.toml: experiment 'bad' is stored with a different definition (train.epochs: 2 → 3): "
             "rename it, or pass --force to replace it"),
    bad_file("changed arms", toml(loss="mse", head="linear"),
             "arms[0].head: 'softmax' → 'linear'; arms[0].loss: 'ce' → 'mse')"),
    # item 15: limits, checked before anything is planned in memory or stored
    bad_file("seeds 1e8", BASE.replace("seeds = 1", "seeds = 100000000"),
             "this command plans 100,000,000 runs, more than the limit of 100,000 per command"),
    bad_file("grid of a million", grid(1000), "this command plans 1,000,000 runs, more than the limit"),
    bad_file("epochs 1e11", toml(epochs="100000000000"),
             "[train] epochs: 100,000,000,000 is more than the limit of 100,000; pass --no-limits"),
    bad_file("hidden 1e8", BASE.replace("[train]", "[model]\nhidden = [100000000]\n[train]"),
             "[model] hidden: a model of 800,000,003 parameters is more than the limit of 10,000,000"),
    bad_file("n_samples 1e9", toml(dataset="moons").replace("[train]", "n_samples = 1000000000\n[train]"),
             "[data] n_samples: 1,000,000,000 is more than the limit of 1,000,000"),
    bad_file("stack memory", toml(dataset="digits").replace("seeds = 1", "seeds = 2000\n[model]\nhidden = [2000]"),
             "would train 2,000 models of digits at once in an estimated 86.2 GB of memory, more than the limit of 4.0 GB"),
    bad_file("seeds override", BASE, "plans 200,000 runs, more than the limit", "--seeds", "200000"),
    # item 18: crashes that become one sentence
    Case("toml not utf-8", ("run", "--config", "{dir}/x.toml"),
         "experiment file {dir}/x.toml is not UTF-8 text (byte 0xff at offset 21): save it as UTF-8",
         (("x.toml", '[experiment]\nname = "\udcff"\n'),)),
    Case("title not utf-8", ("report", "--title", "T\udcff", "--out", "{dir}/r.html"),
         "the argument 'T\\xff' holds bytes that are not UTF-8 text: pass names, paths and titles as UTF-8"),
    Case("filter not utf-8", ("runs", "--experiment", "n\udcff"), "holds bytes that are not UTF-8 text"),
    Case("run id above 2^63 in show", ("show", str(2**64)),
         f"no run can have id {2**64}: run ids are whole numbers from 1 to {2**63 - 1}"),
    Case("run id above 2^63 in delete", ("delete", str(2**63), "--yes"), f"no run can have id {2**63}:"),
    Case("run id zero in delete", ("delete", "0", "--yes"), "no run can have id 0:"),
    # item 19: the store's column widths, the same on SQLite as on PostgreSQL
    bad_file("csv path over 500 characters", toml(dataset="csv:" + "d/" * 300 + "x.csv"),
             "[data] dataset: at most 500 characters (a CSV path included), got 6"),
    bad_file("name over 200 characters", named("n" * 201), "[experiment] name: at most 200 characters, got 201"),
    # item 2: a report never overwrites the database or an existing file
    Case("report over the database", ("report", "--format", "json", "--out", "{dir}/lossdb.db"),
         "refusing to write {dir}/lossdb.db: it is the database being read ({dir}/lossdb.db); choose another --out"),
    Case("report over the database's wal", ("report", "--format", "json", "--out", "{dir}/lossdb.db-wal"),
         "it is the database being read"),
    Case("report over a link to the database", ("report", "--format", "json", "--out", "{dir}/link.db"),
         "refusing to write {dir}/link.db: it is the database being read", (("@link", "link.db"),)),
    Case("report over an existing file", ("report", "--format", "md", "--out", "{dir}/notes.md"),
         "{dir}/notes.md already exists: pass --force to overwrite it, or choose another --out",
         (("notes.md", "my notes\n"),)),
]


def _write(folder: Path, name: str, content: str) -> None:
    """A case's file: '@link' makes a symbolic link to the database; text may carry raw bytes as surrogates."""
    if name == "@link":
        (folder / content).symlink_to(folder / "lossdb.db")
        return
    (folder / name).write_bytes(content.replace("{dir}", str(folder)).encode("utf-8", "surrogateescape"))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_in_one_sentence_and_the_database_is_unchanged(
    case: Case, lossdb_template: Path, tmp_path: Path  # noqa: F811
) -> None:
    db = tmp_path / "lossdb.db"
    shutil.copyfile(lossdb_template, db)
    for name, content in case.files:
        _write(tmp_path, name, content)
    before = sha256(db)
    files_before = sorted(p.name for p in tmp_path.iterdir())
    args = [a.replace("{dir}", str(tmp_path)) for a in case.args]
    result = CliRunner().invoke(app, [*args, "--db", str(db)])
    assert result.exit_code == 1, result.output
    assert case.message.replace("{dir}", str(tmp_path)) in result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    assert "Traceback" not in result.output
    assert sha256(db) == before
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("lossdb.db-")) == files_before


# item 1 and 17: nothing left to run, with more workers than CPUs


def test_run_with_jobs_and_nothing_left_to_run_succeeds_and_says_so(
    lossdb_template: Path, tmp_path: Path  # noqa: F811
) -> None:
    db = tmp_path / "lossdb.db"
    shutil.copyfile(lossdb_template, db)
    (tmp_path / "ok.toml").write_text(BASE)
    result = CliRunner().invoke(app, ["run", "-c", str(tmp_path / "ok.toml"), "-j", "2", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "Nothing to run: all 1 planned runs are already stored" in result.output
    assert runner.stacks([], workers=2) == []


def test_jobs_beyond_the_cpu_count_are_capped_and_the_cap_is_said(
    lossdb_template: Path, tmp_path: Path  # noqa: F811
) -> None:
    db = tmp_path / "lossdb.db"
    shutil.copyfile(lossdb_template, db)
    (tmp_path / "ok.toml").write_text(BASE)
    result = CliRunner().invoke(app, ["run", "-c", str(tmp_path / "ok.toml"), "-j", "999", "--db", str(db)])
    cpus = cpu_count()
    assert result.exit_code == 0, result.output
    assert f"--jobs 999 is more than the {plural(cpus, 'CPU')} here: using {cpus}" in result.output
    assert f"on {plural(cpus, 'worker')}" in result.output


def test_no_limits_lifts_the_limits() -> None:
    exp = ex.parse(BASE.replace("seeds = 1", "seeds = 20"), "x.toml")
    with pytest.raises(ConfigError, match="plans 20 runs, more than the limit of 10 per command"):
        runner.plan([exp], limits=validate.Limits(runs=10))
    assert len(runner.plan([exp], limits=validate.NO_LIMITS)) == 20


def test_the_catalogue_fits_within_the_limits_in_both_presets() -> None:
    for preset in ("quick", "full"):
        assert runner.plan(ex.catalogue().values(), preset)


def test_the_store_column_widths_are_the_validation_limits() -> None:
    from lossdb.core.store.models import Experiment, Run

    assert Experiment.__table__.c.name.type.length == validate.MAX_NAME
    assert Run.__table__.c.dataset.type.length == validate.MAX_DATASET


def test_force_replaces_a_changed_definition(lossdb_template: Path, tmp_path: Path) -> None:  # noqa: F811
    db = tmp_path / "lossdb.db"
    shutil.copyfile(lossdb_template, db)
    (tmp_path / "x.toml").write_text(toml(epochs="3"))
    result = CliRunner().invoke(app, ["run", "-c", str(tmp_path / "x.toml"), "--force", "--db", str(db)])
    assert result.exit_code == 0, result.output
    with open_store(str(db), create=False) as store:
        assert store.experiment_spec("bad")["train"]["epochs"] == 3


# item 5: every JSON output is valid JSON, NaN and ±inf as the strings export documents


def _strict(text: str) -> object:
    """JSON parsed the strict way: NaN and Infinity tokens are errors."""
    def refuse(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def non_finite_db(tmp_path: Path) -> Path:
    """A database holding one run with lr = inf and NaN/inf metrics (as older lossdb versions stored)."""
    db = tmp_path / "nf.db"
    with open_store(str(db)) as store:
        store.upsert_experiment("exp", "", {})
        store.save_runs([make_run(lr=float("inf"), metrics={"train_loss": np.array([1.0, np.nan, np.inf]),
                                                             "test_accuracy": np.array([0.1, 0.2, -np.inf])})])
    return db


@pytest.mark.parametrize("command", ["runs", "show", "export"])
def test_json_outputs_are_strict_json_with_non_finite_numbers_as_strings(
    non_finite_db: Path, tmp_path: Path, command: str
) -> None:
    args = {"runs": ["runs", "--format", "json"], "show": ["show", "1", "--format", "json"],
            "export": ["export", "--format", "jsonl", "--out", str(tmp_path / "out")]}[command]
    result = CliRunner().invoke(app, [*args, "--db", str(non_finite_db)])
    assert result.exit_code == 0, result.output
    if command == "export":
        lines = (tmp_path / "out" / "runs.jsonl").read_text().splitlines()
        run = _strict(lines[0])
        values = [_strict(line)["value"] for line in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]
        assert {"nan", "inf", "-inf"} <= set(values)
        assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".part")]
    else:
        parsed = _strict(result.output)
        run = parsed[0] if isinstance(parsed, list) else parsed
    assert run["lr"] == "inf"
    assert run["metrics"]["train_loss"] == "inf"


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_partial_one(tmp_path: Path) -> None:
    target = tmp_path / "runs.jsonl"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_open(target) as fh:
        fh.write("half a line")
        raise RuntimeError("the disk filled up")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.jsonl"]


# item 7: a path is a path


@pytest.mark.parametrize("name", ["a%20b.db", "x?.db", "q?mode=memory", "h#t.db", "p@q:r.db"])
def test_a_db_path_with_url_characters_is_that_very_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    url = resolve_url(str(path))
    assert sqlite_path(url) == path
    with open_store(str(path)) as store:
        store.upsert_experiment("exp", "", {})
    assert path.is_file()
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(name + "-")] == [name]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


# item 9: credentials never shown

SECRET_URLS = [  # (url, its secret as a driver would quote it)
    ("postgresql+psycopg://me:s3cret-pw@db:5432/lossdb", "s3cret-pw"),
    ("postgresql+psycopg://me@db/lossdb?password=s3cret-pw", "s3cret-pw"),
    ("postgresql+psycopg://me@db/lossdb?sslmode=require&password=s3cret-pw&application_name=x", "s3cret-pw"),
    ("postgresql+psycopg://me:s3cret@pw@db/lossdb", "s3cret@pw"),
    ("postgresql+psycopg://me:s3cret:pw@db/lossdb", "s3cret:pw"),
    ("postgresql+psycopg://me:s3cret%40pw@db/lossdb", "s3cret@pw"),
    ("postgresql+psycopg://me@db/lossdb?sslpassword=s3cret-pw", "s3cret-pw"),
    ("mssql+pyodbc://me@dsn?PWD=s3cret-pw", "s3cret-pw"),
    ("postgresql+psycopg://:s3cret-pw@db/lossdb", "s3cret-pw"),
]


@pytest.mark.parametrize(("url", "secret"), SECRET_URLS)
def test_mask_url_hides_every_credential_form(url: str, secret: str) -> None:
    masked = mask_url(url)
    assert "s3cret" not in masked and "***" in masked
    assert "db" in masked  # the host (or DSN) stays readable
    assert "s3cret" not in scrub(f"driver said: password {secret} rejected", url)


def test_a_query_string_password_is_not_printed_on_a_connection_error() -> None:
    url = "postgresql+psycopg://me@127.0.0.1:9/db?password=hunter2-secret"
    result = CliRunner().invoke(app, ["runs", "--db", url])
    assert result.exit_code == 1
    assert "cannot connect to postgresql+psycopg://me@127.0.0.1:9/db?password=***" in result.output
    assert "hunter2" not in result.output


# items 11, 12: user text never becomes markup

PAYLOADS = [
    "<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "<iframe src=//evil>", "# a heading",
    "[x](javascript:alert(1))", "![remote](http://evil.example/p.png)", "$x^2$ math", "**bold** _it_ ~~s~~",
    "- a list", "1. a list", "a | pipe", "<!--<script>", "> quote", "`code` and <b>", "&lt; entity",
]
MD = MarkdownIt("commonmark").enable("table").enable("strikethrough")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_text_renders_literally_in_a_paragraph_a_heading_and_a_table(payload: str) -> None:
    for html in (MD.render(md_text(payload, block=True)), MD.render("## " + md_text(payload)),
                 MD.render(f"| a |\n|---|\n| {md_text(payload, in_table=True)} |")):
        for tag in ("<img", "<script", "<iframe", "<a ", "<h1", "<strong", "<em", "<ul", "<ol",
                    "<blockquote", "<s>", "<b>", "<!--"):
            assert tag not in html, (payload, html)
        assert html.count("<td>") in (0, 1)  # a pipe never adds a cell


@pytest.mark.parametrize("label", ["<!--<script>", "</script><script>alert(1)</script>", "a & b > c\u2028d\u2029"])
def test_chart_json_in_a_script_cannot_end_or_comment_out_the_script(label: str) -> None:
    value = {"data": [{"arm": label, "y": 1.5}]}
    embedded = _script_json(value)
    assert not any(ch in embedded for ch in "<>&\u2028\u2029")
    assert json.loads(embedded) == value


# item 14: the dashboard shows a label as text


@pytest.mark.slow
def test_the_runs_page_shows_a_label_as_text_not_markdown(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from streamlit.testing.v1 import AppTest

    label = "[x](javascript:alert(1)) $y$ <b>z</b>"
    db = tmp_path / "labels.db"
    (tmp_path / "x.toml").write_text(arm_with(f'label = "{label}"'))
    assert CliRunner().invoke(app, ["run", "-c", str(tmp_path / "x.toml"), "--db", str(db)]).exit_code == 0
    monkeypatch.setenv("LOSSDB_DB", str(db))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("app_pages/runs.py")
    at.run()
    assert not at.exception
    assert any(label in t.value for t in at.text)
    assert not any(label in m.value for m in at.markdown)


# item 6: SIGTERM is Ctrl-C, and workers never outlive the command

SLOW = named("slow", toml(dataset="digits", epochs="400")).replace("[train]", "[model]\nhidden = [[8], [9]]\n[train]")


def _children(pid: int) -> list[int]:
    """The process ids of `pid`'s children (Linux)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _start_and_wait_for_running(tmp_path: Path) -> tuple[subprocess.Popen[str], Path, list[int]]:
    """`lossdb run -j 2` on two long stacks, once both are marked running; its worker processes."""
    (tmp_path / "slow.toml").write_text(SLOW)
    db = tmp_path / "slow.db"
    proc = subprocess.Popen([LOSSDB, "run", "-c", str(tmp_path / "slow.toml"), "-j", "2", "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        try:
            with sqlite3.connect(db, timeout=1) as conn:
                if conn.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone()[0] == 2:
                    break
        except sqlite3.OperationalError:
            pass
        time.sleep(0.1)
    workers = [c for c in _children(proc.pid) if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]
    return proc, db, workers


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_marks_the_runs_interrupted_and_stops_the_workers(tmp_path: Path) -> None:
    proc, db, workers = _start_and_wait_for_running(tmp_path)
    assert len(workers) == 2
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 143, stderr
    assert "Traceback" not in stderr and stderr.strip().endswith("run the same command again to do the rest.")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall() == [("interrupted", 2)]
    conn.close()
    assert not any(_alive(w) for w in workers)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_parent(tmp_path: Path) -> None:
    proc, _, workers = _start_and_wait_for_running(tmp_path)
    proc.kill()
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 5
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert workers and not any(_alive(w) for w in workers)
