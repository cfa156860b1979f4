"""Scoring a clustering against known truth: pairwise precision, recall and F1.

A clustering is scored through the record pairs it implies: every two records in the same predicted
cluster are a predicted match, every two records of the same true person a true match.  Precision is
true predicted pairs / predicted pairs, recall true predicted pairs / true pairs.  Counting pairs (not
clusters) is the usual measure in record linkage (FEBRL, Splink) and weighs a wrong merge of two big
clusters by the number of pairs it creates.  Pairs are counted from the contingency table, never listed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["PairScores", "pairwise_scores"]


@dataclass(frozen=True)
class PairScores:
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(sizes: pd.Series) -> int:
    s = sizes.astype("int64")
    return int((s * (s - 1) // 2).sum())


def pairwise_scores(predicted: pd.Series, truth: pd.Series) -> PairScores:
    """``predicted`` and ``truth`` are cluster labels of the same records (aligned by position)."""
    if len(predicted) != len(truth):
        raise ValueError("predicted and truth must label the same records")
    df = pd.DataFrame({"p": predicted.to_numpy(), "t": truth.to_numpy()})
    return PairScores(true_pairs=_pairs(df.groupby("t").size()), predicted_pairs=_pairs(df.groupby("p").size()),
                      correct_pairs=_pairs(df.groupby(["p", "t"]).size()))
