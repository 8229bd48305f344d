"""core.realnumber: the one number validator."""

import math

import numpy as np
import pytest
from lossdb.core import realnumber


@pytest.mark.parametrize("value, real, finite, whole", [
    (1, True, True, True), (np.int64(3), True, True, True), (2.5, True, True, False),
    (np.float32(0.5), True, True, False), (math.inf, True, False, False), (math.nan, True, False, False),
    (True, False, False, False), ("1", False, False, False), (None, False, False, False)])
def test_a_bool_or_text_is_never_a_number_and_numpy_scalars_are(value, real, finite, whole):
    assert (realnumber.real(value), realnumber.finite(value), realnumber.whole(value)) == (real, finite, whole)


def test_within_honours_open_and_closed_ends_and_refuses_infinity():
    assert realnumber.within(0.0, 0.0, 1.0) and not realnumber.within(0.0, 0.0, 1.0, open_low=True)
    assert realnumber.within(1.0, 0.0, 1.0) and not realnumber.within(1.0, 0.0, 1.0, open_high=True)
    assert not realnumber.within(math.inf, 0.0, math.inf, open_high=True)
    assert not realnumber.within(False, -1.0, 1.0)
