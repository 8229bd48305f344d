"""core.experiments.tomllines: where a setting is written, for the line an error names."""

from lossdb.core.experiments.tomllines import line_of

TEXT = """[experiment]
name = "x"
[train]
epochs = 3
[[arms]]
loss = "ce"
[[comparisons]]
favoured = "a"
[[comparisons]]
other = "b"
"""


def test_a_key_is_found_in_its_section_and_not_in_another():
    assert line_of(TEXT, "train", "epochs") == 4
    assert line_of(TEXT, "experiment", "epochs") is None
    assert line_of(TEXT, "arms", "loss") == 6


def test_an_array_table_is_found_by_index_with_its_header_when_the_key_is_absent():
    assert line_of(TEXT, "comparisons", "favoured", 0) == 8
    assert line_of(TEXT, "comparisons", "other", 1) == 10
    assert line_of(TEXT, "comparisons", "favoured", 1) == 9  # not set there: the table's header
