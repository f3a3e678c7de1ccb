"""Categorical codes for the return-risk pipelines."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from models.encoding import CategoryCodes

SEEN = pl.DataFrame({"size": ["M", "S", "M", "L", "M", "S", None]})


def test_codes_follow_the_fit_frequency_most_frequent_first() -> None:
    codes = CategoryCodes().fit(SEEN).transform(pl.DataFrame({"size": ["M", "S", "L"]}))
    assert codes[:, 0].tolist() == [0.0, 1.0, 2.0]


def test_values_past_the_limit_share_the_last_code() -> None:
    codes = CategoryCodes(max_categories=2).fit(SEEN)
    assert codes.transform(pl.DataFrame({"size": ["M", "S", "L"]}))[:, 0].tolist() \
        == [0.0, 1.0, 1.0]


def test_unseen_and_missing_values_are_nan() -> None:
    codes = CategoryCodes().fit(SEEN).transform(pl.DataFrame({"size": ["XXL", None]}))
    assert np.isnan(codes).all()


def test_pandas_input_is_coded_like_polars_input() -> None:
    fitted = CategoryCodes().fit(SEEN.to_pandas())
    assert np.array_equal(fitted.transform(SEEN.to_pandas()), fitted.transform(SEEN),
                          equal_nan=True)


def test_other_columns_than_the_fit_are_refused() -> None:
    with pytest.raises(ValueError, match="expected the columns"):
        CategoryCodes().fit(SEEN).transform(pl.DataFrame({"colour": ["red"]}))
