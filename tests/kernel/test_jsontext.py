"""core.jsontext: the one JSON normaliser and its policy for NaN and infinity."""

import json
import math

import numpy as np
from lossdb.core import jsontext


def test_outputs_write_non_finite_numbers_as_text_and_stored_data_as_null():
    value = {"a": np.float32(1.5), "b": (math.nan, math.inf), "c": np.array([-math.inf, 2.0]), 3: "x"}
    assert jsontext.plain(value) == {"a": 1.5, "b": ["nan", "inf"], "c": ["-inf", 2.0], "3": "x"}
    assert jsontext.plain(value, "null") == {"a": 1.5, "b": [None, None], "c": [None, 2.0], "3": "x"}
    assert json.loads(jsontext.dumps(value)) == jsontext.plain(value)


def test_the_store_keeps_non_finite_numbers_as_null():
    from lossdb.core.store.engine import dumps

    assert json.loads(dumps({"x": [math.nan, 1, np.int64(2)]})) == {"x": [None, 1, 2]}
