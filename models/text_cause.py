"""Root cause from free text: return comments and reviews in any of the shop's languages.

A character n-gram TF-IDF and a logistic regression (fitted by SGD), trained on the labelled
corpus kept in models/data/text_causes.csv (see models/corpus.py). Character n-grams work
across scripts (Latin, Cyrillic, Hangul, Han) without a tokenizer or anything downloaded.
The held-out split is by phrase family: no held-out text shares its core phrase with a
training text.
`python -m models.text_cause --evaluate` prints macro-F1 per language on the held-out part.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline, make_pipeline

from models.corpus import CAUSES, CORPUS_PATH

SEED = 7
HELD_OUT_FAMILIES = 3  # of the ~10 core phrases per language and cause
# what each reason code a customer can pick says about the root cause
REASON_CAUSE: dict[str, str] = {
    "size_too_small": "size_fit",
    "size_too_large": "size_fit",
    "defective": "defect",
    "damaged_in_transit": "damaged",
    "wrong_item": "wrong_item",
    "not_as_described": "not_as_described",
    "changed_mind": "changed_mind",
    "arrived_late": "late",
    "better_price": "changed_mind",
    "rto_undelivered": "late",
}
# causes that put a vendor's product at fault (transit damage and late delivery are carriers')
VENDOR_DEFECT_CAUSES = ("defect", "not_as_described")


def load_corpus(path: Path = CORPUS_PATH) -> pl.DataFrame:
    """The labelled corpus: language, cause, family, text; fails naming the bad row."""
    frame = pl.read_csv(path, schema_overrides={"text": pl.String})
    missing = {"language", "cause", "family", "text"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    bad = frame.with_row_index("row").filter(~pl.col("cause").is_in(CAUSES))
    if bad.height:
        row = bad.row(0, named=True)
        raise ValueError(f"{path}: row {row['row'] + 2}: cause {row['cause']!r} is not one of "
                         f"{CAUSES}")
    return frame


def split(corpus: pl.DataFrame, seed: int = SEED) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Train and held-out parts, holding out whole phrase families per language and cause."""
    rng = np.random.default_rng(seed)
    held: list[str] = []
    families = (corpus.select("language", "cause", "family").unique()
                .sort("language", "cause", "family"))
    for _, group in families.group_by(["language", "cause"], maintain_order=True):
        names = group["family"].to_list()
        held.extend(rng.choice(names, size=min(HELD_OUT_FAMILIES, len(names) - 1),
                               replace=False).tolist())
    test_mask = pl.col("family").is_in(held)
    return corpus.filter(~test_mask), corpus.filter(test_mask)


def train(frame: pl.DataFrame, seed: int = SEED) -> Pipeline:
    """Fit the character n-gram classifier on labelled texts."""
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), lowercase=True,
                        sublinear_tf=True, min_df=1),
        # logistic loss by SGD: the same model as LogisticRegression, ten times faster to fit
        SGDClassifier(loss="log_loss", alpha=2e-5, max_iter=30, tol=None, random_state=seed),
    )
    model.fit(frame["text"].to_list(), frame["cause"].to_list())
    return model


@lru_cache(maxsize=1)
def default_model() -> Pipeline:
    """The classifier trained on the whole corpus (cached: training takes a few seconds)."""
    return train(load_corpus())


def classify(texts: list[str | None], model: Pipeline | None = None) -> pl.DataFrame:
    """Cause and its probability for each text; empty or missing texts get nulls."""
    model = model or default_model()
    present = [i for i, t in enumerate(texts) if t is not None and t.strip()]
    causes: list[str | None] = [None] * len(texts)
    confidence: list[float | None] = [None] * len(texts)
    if present:
        proba = model.predict_proba([texts[i] for i in present])
        best = proba.argmax(axis=1)
        labels = model.classes_
        for j, i in enumerate(present):
            causes[i] = str(labels[best[j]])
            confidence[i] = float(proba[j, best[j]])
    return pl.DataFrame({"text_cause": causes, "text_confidence": confidence},
                        schema={"text_cause": pl.String, "text_confidence": pl.Float64})


def with_text_causes(frame: pl.DataFrame, text_column: str) -> pl.DataFrame:
    """The frame with text_cause and text_confidence from its free-text column."""
    return pl.concat([frame, classify(frame[text_column].to_list())], how="horizontal")


def reconcile(frame: pl.DataFrame) -> pl.DataFrame:
    """Reason code and text cause side by side: the picked cause, the text's, and whether they
    disagree (only where the customer wrote something); both are kept."""
    return frame.with_columns(
        reason_cause=pl.col("reason_code").replace_strict(REASON_CAUSE, default=None),
    ).with_columns(
        cause_disagrees=pl.when(pl.col("text_cause").is_null() | pl.col("reason_cause").is_null())
        .then(None)
        .otherwise(pl.col("text_cause") != pl.col("reason_cause")),
    )


def evaluate(seed: int = SEED) -> dict[str, object]:
    """Held-out macro-F1 per language (and overall) of a model trained on the other families."""
    train_part, test_part = split(load_corpus(), seed)
    model = train(train_part, seed)
    predicted = model.predict(test_part["text"].to_list())
    scored = test_part.with_columns(predicted=pl.Series(predicted))
    per_language = {}
    for language in sorted(scored["language"].unique().to_list()):
        part = scored.filter(pl.col("language") == language)
        per_language[language] = round(float(f1_score(part["cause"], part["predicted"],
                                                      average="macro")), 3)
    return {
        "train_texts": train_part.height,
        "held_out_texts": test_part.height,
        "macro_f1_by_language": per_language,
        "macro_f1_overall": round(float(f1_score(scored["cause"], scored["predicted"],
                                                 average="macro")), 3),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: --evaluate prints held-out macro-F1 per language as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluate", action="store_true", help="held-out macro-F1 per language")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if not args.evaluate:
        parser.print_help()
        return 2
    sys.stdout.write(json.dumps(evaluate(args.seed), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
