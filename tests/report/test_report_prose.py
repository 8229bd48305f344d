"""The report's words come from the runs it reports (issue 16): the protocol quotes the stored
epochs and seeds, the abstract names the preset and seed count, the contents list two levels."""

from __future__ import annotations

from pathlib import Path

import pytest

from lossdb.core import report as reports
from lossdb.core.experiments.spec import catalogue
from lossdb.core.report import figures, pdf
from lossdb.core.report.model import preset_of
from lossdb.core.report.prose import protocol, scale
from lossdb.core.store import open_store


@pytest.fixture(scope="module")
def short_report(newcomer_db: Path) -> reports.ReportData:
    """The report of the saturation experiment run for 3 epochs with 2 seeds (not a preset)."""
    with open_store(str(newcomer_db), create=False, read_only=True) as store:
        return reports.build(store, ["saturation"])


def test_the_protocol_quotes_the_epochs_the_runs_were_trained_for(short_report):
    (section,) = short_report.sections
    assert "for 3 epochs" in section.protocol and "300 epochs" not in section.protocol
    assert "{" not in section.protocol


def test_the_abstract_says_the_numbers_come_from_custom_settings_and_how_many_seeds(short_report):
    assert "The numbers come from custom settings (3 epochs, 2 seeds per arm)" in short_report.abstract
    assert "full preset" in short_report.abstract


@pytest.mark.parametrize(("epochs", "seeds", "preset"), [
    ([30], 3, "quick"), ([30], 10, "full"), ([5], 2, None), ([30], 5, None),
], ids=["quick", "full", "fewer epochs", "other seed count"])
def test_the_preset_is_recognised_from_the_stored_epochs_and_seed_count(epochs, seeds, preset):
    assert preset_of(catalogue()["convergence"], epochs, seeds) == preset


@pytest.mark.parametrize(("presets", "seeds", "expected"), [
    ({"a": "quick", "b": "quick"}, {"a": 3, "b": 20}, "the quick preset (3–20 seeds per arm); the README's"),
    ({"a": "full"}, {"a": 10}, "the full preset (10 seeds per arm), as in the README's table"),
    ({"a": None, "b": "quick"}, {"a": 2, "b": 3}, "custom settings (a: 5 epochs, 2 seeds per arm) and the quick"),
], ids=["quick", "full", "mixed"])
def test_the_source_sentence_names_the_preset(presets, seeds, expected):
    assert expected in scale(presets, seeds, {name: [5] for name in presets})


def test_protocol_placeholders_take_every_stored_epoch_count():
    assert protocol("for {epochs} epochs with {seeds} seeds", [40, 100, 40], 3) == "for 40 or 100 epochs with 3 seeds"


def test_the_pdf_contents_list_experiments_and_conditions_only(short_report):
    entries = pdf.contents(short_report, figures.svgs(short_report.charts))
    assert max(level for level, _ in entries) <= 2
    assert [text for _, text in entries if text in ("Protocol", "Notable runs")] == []
    conditions = [c.name for s in short_report.sections for c in s.conditions]
    assert [text for level, text in entries if level == 2] == conditions


def test_make_run_says_the_readme_table_is_the_full_presets():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    recipe = makefile[makefile.index("\nrun:"):makefile.index("\ntest:")]
    assert "README" in recipe and "--preset full" in recipe


@pytest.mark.parametrize(("matches", "expected"), [
    ({"a": ("quick",), "b": ("quick", "full")}, {"a": "quick", "b": "quick"}),
    ({"a": ("full",), "b": ("quick", "full")}, {"a": "full", "b": "full"}),
    ({"a": (), "b": ("quick", "full")}, {"a": None, "b": "full"}),
], ids=["quick database", "full database", "custom and a preset"])
def test_an_experiment_whose_presets_coincide_takes_the_preset_of_the_others(matches, expected):
    from lossdb.core.report.model import one_preset_each

    assert one_preset_each(matches) == expected


@pytest.mark.parametrize(("presets", "expected"), [
    ({"a": "quick", "b": "full"}, "The numbers come from the full preset for b and the quick preset for a;"),
    ({"a": None, "b": "quick"}, "custom settings (a: 5 epochs, 2 seeds per arm) and the quick preset for b;"),
], ids=["two presets", "custom and quick"])
def test_the_source_sentence_names_only_sources_that_exist(presets, expected):
    text = scale(presets, {"a": 2, "b": 3}, {name: [5] for name in presets})
    assert expected in text and "()" not in text
