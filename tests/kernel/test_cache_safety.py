"""core.cache and core.datacodec hold only data: no pickle is ever read, a folder that is not the
user's own is not used, wrong or corrupt entries are recomputed, every cache is pruned, and a
chart's SVG is sanitised before a report inlines it."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.core import cache as verdictcache
from lossdb.core import datacodec
from lossdb.core.judging.judge import judge
from lossdb.core.judging.outcomes import Look, Reason, Verdict
from lossdb.core.report import svgsafe
from lossdb.core.store import open_store

RUN = ["run", "margin", "--preset", "quick", "--epochs", "3", "--seeds", "2"]
MARKER = "lossdb-pwned"


class Exploit:
    """A pickle whose loading would run a command: creates MARKER in the current folder."""

    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("cs") / "built.db"
    result = CliRunner().invoke(app, [*RUN, "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def db(built: Path, tmp_path: Path) -> str:
    target = tmp_path / "copy.db"
    with sqlite3.connect(built) as a, sqlite3.connect(target) as b:
        a.backup(b)
    return str(target)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("LOSSDB_CACHE_DIR", str(tmp_path / "cache"))
    verdictcache._warned.clear()
    return tmp_path / "cache" / "verdicts"


def _compare(db: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["compare", "--format", "json", "--db", db])
    return result.exit_code, result.stdout, result.stderr


def _entry_name(db: str, question) -> str:
    with open_store(db, create=False, read_only=True) as store:
        return verdictcache.key(store.fingerprint(), question)


def test_real_verdicts_round_trip_through_json_field_for_field(db):
    verdicts = judge(db, all_conditions=True)
    assert len(verdicts) > 10 and any(v.condition_keys for v in verdicts)
    back = datacodec.decode(datacodec.encode(verdicts), [Verdict])
    assert all(type(v) is Verdict for v in back)
    assert datacodec.encode(back) == datacodec.encode(verdicts)  # NaN != NaN: compared as text
    finite = [i for i, v in enumerate(verdicts) if all(x == x for x in v.values.values())]
    assert finite and [back[i] for i in finite] == [verdicts[i] for i in finite]


def test_nested_looks_and_reasons_come_back_as_records_not_dicts():
    v = Verdict("c", "s", "e", "cond", "m", ("a", "b"), {"a": float("nan"), "b": 1.0}, "supported",
                0.5, 0.1, float("inf"), 4, None, True, condition_keys=(("dataset", "iris"), ("hidden", (4, 8))),
                looks=(Look(4, 0.01, -1.0, None, "inconclusive"),),
                reasons=(Reason("censored", (("n", 3), ("at", (1, 2)))),))
    back = datacodec.decode(datacodec.encode([v]), [Verdict])[0]
    assert isinstance(back.looks[0], Look) and isinstance(back.reasons[0], Reason)
    assert back.reasons[0].get("at") == (1, 2) and back.condition_keys == v.condition_keys
    assert back.values["a"] != back.values["a"] and back.ci_high == float("inf")  # NaN and inf kept


def test_a_field_added_to_a_record_round_trips_without_an_edit_to_the_codec():
    Grown = dataclasses.make_dataclass(
        "Grown", [("base", Verdict), ("extra", tuple[Reason, ...], dataclasses.field(default=()))])
    Grown.__module__ = __name__
    globals()["Grown"] = Grown  # resolvable by name, as a class in a module is
    v = judge_free_verdict()
    grown = Grown(v, (Reason("too_few_seeds", (("needed", 12),)),))
    assert datacodec.decode(datacodec.encode(grown), [Grown]) == grown


def judge_free_verdict() -> Verdict:
    return Verdict("c", "s", "e", "cond", "m", ("a", "b"), {}, "inconclusive", None, None, None, 0, "f",
                   None, False)


def test_a_record_of_a_class_not_expected_is_refused():
    text = json.dumps({"c": "system", "f": {"command": "touch x"}})
    with pytest.raises(ValueError, match="class not expected"):
        datacodec.decode(text, [Verdict])
    with pytest.raises(ValueError, match="other fields"):
        datacodec.decode(json.dumps({"c": "Look", "f": {"n": 1, "evil": 2}}), [Verdict])


def test_a_deeply_nested_entry_is_refused_not_a_crash():
    with pytest.raises(ValueError):
        datacodec.decode("[" * 100_000 + "]" * 100_000, [Verdict])


def test_a_pickle_planted_in_the_cache_is_never_loaded(db, cache, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, first, _ = _compare(db)
    assert code == 0
    for entry in cache.iterdir():  # every entry, and a .pickle beside each, replaced by the exploit
        entry.write_bytes(pickle.dumps(Exploit()))
        entry.with_suffix(".pickle").write_bytes(pickle.dumps(Exploit()))
    code, again, _ = _compare(db)
    assert code == 0 and again == first
    assert not (tmp_path / MARKER).exists()
    assert not list(cache.glob("*.pickle"))  # an older lossdb's pickles are removed unread


def test_an_entry_of_the_wrong_type_is_recomputed(db, cache):
    code, first, _ = _compare(db)
    entry = next(cache.glob("*.json"))
    entry.write_text(datacodec.encode([Look(1, 0.05, None, None, "supported")]))
    assert _compare(db)[1] == first
    assert all(isinstance(v, Verdict) for v in datacodec.decode(entry.read_bytes(), [Verdict]))
    entry.write_text(datacodec.encode({"not": "a list"}))
    assert _compare(db)[1] == first


def test_a_folder_open_to_others_is_ignored_with_one_warning(db, cache):
    cache.mkdir(parents=True, mode=0o755)
    os.chmod(cache, 0o777)
    code, out, err = _compare(db)
    assert code == 0 and json.loads(out)
    assert err.count("Warning: the cache folder") == 1 and "not private to you" in err
    assert not any(cache.iterdir())
    assert _compare(db)[2].count("Warning") == 0  # one warning per process


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_owned_by_another_user_is_not_read(db, cache, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cache.mkdir(parents=True, mode=0o700)
    name = _entry_name(db, ("evaluate", (), ()))
    (cache / f"{name}.json").write_text(datacodec.encode([judge_free_verdict()]))
    os.chown(cache, 65534, 65534)
    code, out, err = _compare(db)
    assert code == 0 and "not private to you" in err
    assert all(r["claim"] != "c" for r in json.loads(out))


def test_a_linked_entry_is_not_followed(db, cache, tmp_path):
    code, first, _ = _compare(db)
    entry = next(cache.glob("*.json"))
    elsewhere = tmp_path / "planted.json"
    elsewhere.write_text(datacodec.encode([judge_free_verdict()]))
    entry.unlink()
    entry.symlink_to(elsewhere)
    assert _compare(db)[1] == first


def test_every_cache_folder_lossdb_makes_is_private(db, tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSDB_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("LOSSDB_CACHE_DIR")
    old = os.umask(0o022)
    try:
        assert verdictcache.ready(verdictcache.root("verdicts"))
        assert verdictcache.ready(verdictcache.root("charts"))
    finally:
        os.umask(old)
    for folder in (tmp_path / "xdg" / "lossdb", tmp_path / "xdg" / "lossdb" / "verdicts",
                   tmp_path / "xdg" / "lossdb" / "charts"):
        assert folder.stat().st_mode & 0o777 == 0o700


def test_an_entry_computed_while_the_store_changed_is_not_kept(db, cache):
    with open_store(db) as store:
        old = store.fingerprint()

        def compute():
            store.delete_runs([store.list_runs()[0].id])  # the store moves while this is computed
            return [judge_free_verdict()]

        verdictcache.cached(store, ("q",), compute, expect=verdictcache.many(Verdict), types=(Verdict,),
                            fingerprint=old)
        assert not list(cache.glob("*.json"))
        verdictcache.cached(store, ("q",), lambda: [judge_free_verdict()], expect=verdictcache.many(Verdict),
                            types=(Verdict,))
        assert len(list(cache.glob("*.json"))) == 1


def test_a_cached_report_round_trips_field_for_field(db, cache):
    from lossdb.core import report as reports
    from lossdb.core.report.model import ReportData

    with open_store(db, create=False, read_only=True) as store:
        data = reports.build(store, title="t")
    assert datacodec.decode(datacodec.encode(data), [ReportData]) == data


def test_the_chart_cache_is_pruned_to_its_cap(tmp_path, monkeypatch):
    from lossdb.core.report import figures

    folder = tmp_path / "charts"
    folder.mkdir(mode=0o700)
    for i in range(5):
        entry = folder / f"{i}.svg"
        entry.write_text("x" * 100)
        os.utime(entry, ns=(i * 10**9, i * 10**9))
    monkeypatch.setattr(figures, "MAX_CACHE_BYTES", 250)
    figures._store(folder / "new.svg", "y" * 100)
    assert sorted(p.name for p in folder.iterdir()) == ["4.svg", "new.svg"]


HOSTILE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert(1)">'
    '<script>alert(2)</script><rect width="3" onclick="alert(3)" fill="url(http://evil/x)"/>'
    '<foreignObject><body xmlns="http://www.w3.org/1999/xhtml"><img src="http://evil/y"/></body></foreignObject>'
    '<a href="javascript:alert(4)"><text>t</text></a><use xlink:href="http://evil/z#a"/>'
    '<image href="http://evil/w.png"/><g><path d="M0 0L1 1" fill="url(#grad)"/></g></svg>')


def test_the_svg_sanitiser_keeps_drawing_and_drops_everything_active():
    out = svgsafe.clean(HOSTILE_SVG)
    low = out.lower()
    for bad in ("script", "onload", "onclick", "foreignobject", "javascript:", "evil", "<image", "<a "):
        assert bad not in low, bad
    assert '<rect width="3"' in out and 'fill="url(#grad)"' in out and "<path" in out
    assert svgsafe.clean("<html><script>x</script></html>") == svgsafe.EMPTY
    assert svgsafe.clean("not xml <") == svgsafe.EMPTY


def test_a_hostile_svg_in_the_chart_cache_never_reaches_the_html_report(db, cache):
    from lossdb.core import report as reports
    from lossdb.core.report import figures

    with open_store(db, create=False, read_only=True) as store:
        data = reports.build(store, title="t")
    chart = data.charts[0]
    figures.svg(chart)  # renders it once into the cache
    planted = [p for p in (cache.parent / "charts").glob("*.svg")]
    assert planted
    for p in planted:
        p.write_text(HOSTILE_SVG)
    html = reports.download(data, "html", False, None)[1].decode()
    assert "alert(" not in html and "evil" not in html and "foreignObject" not in html


@pytest.mark.parametrize("corrupt", [
    lambda text: text[: len(text) // 2],
    lambda text: text.replace('"rows":', '"rows":-', 1),
    lambda text: text.replace('"float64"', '"datetime64[ns]"', 1),
    lambda text: text.replace('"int64"', '"float64"', 1).replace('"data":[[', '"data":[["x",', 1),
    lambda text: '{"x":{"columns":["a"],"dtypes":["object"],"rows":2,"index":null,"data":[{"u":[1],"i":[0,5]}]}}',
    lambda text: '{"x":{"columns":["a"],"dtypes":["object"],"rows":1,"index":null,"data":[{"j":[1],"z":1}]}}',
])
def test_a_corrupt_runs_frame_entry_is_recomputed(db, cache, corrupt):
    import pandas as pd

    from lossdb.core.analysis.frame import kept_runs_frame, runs_frame

    with open_store(db, create=False, read_only=True) as store:
        computed = runs_frame(store)
        kept_runs_frame(store)
        entry = next(cache.glob("*.json"))
        entry.write_text(corrupt(entry.read_text()))
        pd.testing.assert_frame_equal(kept_runs_frame(store), computed)


def test_to_data_and_from_data_round_trip_a_verdict_through_plain_dicts():
    v = judge_free_verdict()
    data = datacodec.to_data(v)
    assert json.loads(json.dumps(data)) == data  # plain JSON types only
    assert datacodec.from_data(data, [Verdict]) == v
