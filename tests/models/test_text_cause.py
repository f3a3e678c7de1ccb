"""The root-cause text classifier: its corpus, its held-out score and its precision on real text."""

from pathlib import Path

import polars as pl
import pytest

from models.corpus import CAUSES, CORES
from models.text_cause import (
    REASON_CAUSE,
    classify,
    evaluate,
    load_corpus,
    reconcile,
    split,
)
from warehouse.contract import LANGUAGES, REASON_CODES

OLIST_SAMPLE = Path(__file__).parent / "fixtures" / "olist_reviews_labelled.csv"


def _precision(frame: pl.DataFrame, cause: str) -> float:
    predicted = frame.filter(pl.col("text_cause") == cause)
    return predicted.filter(pl.col("label") == cause).height / predicted.height


@pytest.fixture(scope="module")
def olist_scored() -> pl.DataFrame:
    sample = pl.read_csv(OLIST_SAMPLE)
    return pl.concat([sample, classify(sample["text"].to_list())], how="horizontal")


def test_corpus_has_at_least_sixty_texts_per_cause_and_language():
    counts = load_corpus().group_by("language", "cause").len()
    assert counts.height == len(CAUSES) * len(CORES)
    assert counts["len"].min() >= 60


def test_corpus_covers_every_language_of_the_contract():
    assert set(load_corpus()["language"].unique()) == set(LANGUAGES)


def test_held_out_part_shares_no_phrase_family_with_training():
    train, test = split(load_corpus())
    assert test.height > 0
    assert set(train["family"]).isdisjoint(set(test["family"]))


def test_every_reason_code_of_the_contract_maps_to_a_cause():
    assert set(REASON_CAUSE) == set(REASON_CODES)
    assert set(REASON_CAUSE.values()) <= set(CAUSES)


def test_held_out_macro_f1_is_well_above_chance_in_every_language():
    # chance is 1/8; measured 0.63 (zh) to 0.75 (id), docs/vendor-quality.md
    scores = evaluate()["macro_f1_by_language"]
    assert set(scores) == set(LANGUAGES)
    assert min(scores.values()) >= 0.55


def test_missing_and_blank_texts_get_no_cause():
    result = classify([None, "  ", "the screen flickers and it will not switch on"])
    assert result["text_cause"].to_list()[:2] == [None, None]
    assert result["text_cause"][2] == "defect"


def test_a_broken_item_filed_as_changed_mind_counts_as_a_disagreement():
    frame = pl.DataFrame({"reason_code": ["changed_mind", "changed_mind", "defective"],
                          "text_cause": ["defect", "changed_mind", None]})
    assert reconcile(frame)["cause_disagrees"].to_list() == [True, False, None]


def test_olist_sample_has_at_least_a_hundred_hand_labelled_reviews():
    sample = pl.read_csv(OLIST_SAMPLE)
    assert sample.height >= 100
    assert set(sample["label"]) <= set(CAUSES)


def test_defect_precision_on_real_portuguese_reviews(olist_scored):
    # measured 0.50 (5 of 10) on the hand-labelled sample: a floor, not a target
    assert _precision(olist_scored, "defect") >= 0.4


def test_non_delivery_precision_on_real_portuguese_reviews(olist_scored):
    # measured 0.74 (25 of 34) on the hand-labelled sample
    assert _precision(olist_scored, "late") >= 0.65
