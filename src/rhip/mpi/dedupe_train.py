"""Fitting the batch-deduplication model (see docs/decisions/0005-mpi-model.md).

1. u by random sampling: ``max_pairs`` random record pairs (nearly all non-matches) give the chance that a
   field agrees at each level between two different people.
2. m by expectation maximisation, in two sessions blocked on the ID body and on name pinyin + village;
   each session estimates every comparison not used by its blocking rule, so each m is estimated without
   seeing the field it is blocked on.  No labels are used.  (A session blocked on phone is left out on
   purpose: among pairs sharing a phone, family members outnumber duplicates and EM learns "family".)
3. The prior: EM's share of matches among the pairs sharing an ID body, times those pairs, divided by
   m(id_exact) (the share of all matches that share an ID body) = the number of matching pairs.  Stored
   per record so that it scales with the size of the file being deduplicated.  (Splink's
   ``populate_probability_two_random_records_match_from_trained_values`` gave 0.999 here: it reverses the
   blocking rule through a level, and our ID comparison folds the birth date in.)
4. The threshold: the only step that uses the truth.  The generated training file (its own seed, never
   the benchmark's) is clustered at a grid of match probabilities and the one with the best pairwise F1
   is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

import pandas as pd

from rhip.mpi.dedupe_eval import pairwise_scores
from rhip.mpi.dedupe_features import INPUT_COLUMNS, build_features
from rhip.mpi.dedupe_model import Model, guarded_pairs_sql, settings

__all__ = ["fit", "THRESHOLD_GRID"]

THRESHOLD_GRID = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999)


def _trained_levels(linker) -> dict[str, dict[str, tuple[float | None, float | None]]]:
    out: dict[str, dict[str, tuple[float | None, float | None]]] = {}
    for comp in linker.misc.save_model_to_json()["comparisons"]:
        levels = {}
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level"):
                continue
            levels[lv["label_for_charts"]] = (lv.get("m_probability"), lv.get("u_probability"))
        out[comp["output_column_name"]] = levels
    return out


def fit(frame: pd.DataFrame, *, seed: int, description: str, u_max_pairs: float = 2e7,
        progress: Callable[[str], None] | None = None) -> tuple[Model, dict[float, tuple[float, float, float]]]:
    """Fit on ``frame`` (``INPUT_COLUMNS`` + truth column ``person_id``); returns the model and, per
    threshold of the grid, (precision, recall, F1) on the training file."""
    from splink import Linker, block_on

    from rhip.mpi.dedupe import _quiet_splink, db_api

    say = progress or (lambda _m: None)
    _quiet_splink()
    t0 = time.perf_counter()
    features, _faults = build_features(frame[list(INPUT_COLUMNS)], progress=say)
    n = len(features)
    api = db_api("duckdb")
    linker = Linker(api.register(features, dataset_display_name="training"), settings("duckdb"), log_level=None)
    say("u: random sampling")
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    sessions = [block_on("id17"), block_on("name_py", "addr_village")]
    trained = []
    for i, rule in enumerate(sessions):
        say(f"m: EM session {i + 1}/{len(sessions)}")
        trained.append(linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True))
    levels = _trained_levels(linker)
    api._con.close()
    # The prior: matches among the pairs sharing an ID body (EM's estimate in session 1), scaled up by how
    # many matches share an ID body at all (m of the id_exact level) and divided by all pairs.
    in_block = trained[0].core_model_settings.probability_two_random_records_match
    sizes = features["id17"].value_counts()
    block_pairs = int((sizes * (sizes - 1) // 2).sum())
    m_exact = levels["id_birth"]["id_exact"][0]
    matches = in_block * block_pairs / m_exact
    model = Model(levels, duplicates_per_record=matches / n, threshold=0.99, fitted={})
    say("threshold: clustering the training file at each candidate")
    truth = frame["person_id"].reset_index(drop=True)
    api = db_api("duckdb")
    linker = Linker(api.register(features, dataset_display_name="training"),
                    settings("duckdb", model=model, n_records=n), log_level=None)
    scored = linker.inference.predict(threshold_match_probability=min(THRESHOLD_GRID), warning_mode="never")
    predictions = linker.misc.query_sql(guarded_pairs_sql(scored.physical_name))
    scores: dict[float, tuple[float, float, float]] = {}
    for thr in THRESHOLD_GRID:
        cl = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold_match_probability=thr)
        labels = cl.as_pandas_dataframe()[["unique_id", "cluster_id"]]
        by_id = dict(zip(labels["unique_id"].astype(str), labels["cluster_id"].astype(str)))
        predicted = features["unique_id"].map(lambda i: by_id.get(i, i))
        s = pairwise_scores(predicted, truth)
        scores[thr] = (s.precision, s.recall, s.f1)
        say(f"  p ≥ {thr}: precision {s.precision:.4f} recall {s.recall:.4f} F1 {s.f1:.4f}")
    api._con.close()
    best = max(THRESHOLD_GRID, key=lambda t: (round(scores[t][2], 4), t))
    model.threshold = best
    model.fitted = {
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": description, "records": n, "seed": seed,
        "u": f"random sampling, max_pairs={u_max_pairs:g}, seed={seed}",
        "m": "expectation maximisation blocked on " + "; ".join(r.get_blocking_rule("duckdb").blocking_rule_sql
                                                                 for r in sessions),
        "prior": (f"EM's share of matches among the {block_pairs:,} pairs sharing an ID body ({in_block:.4f}) x pairs "
                  f"/ m(id_exact) ({m_exact:.4f}) = {matches:,.0f} matching pairs, stored per record and scaled "
                  "to each file's size"),
        "threshold": "best pairwise F1 of connected-component clusters on the training file over the grid "
                     + ", ".join(str(t) for t in THRESHOLD_GRID),
        "training_scores": {str(t): {"precision": round(p, 5), "recall": round(r, 5), "f1": round(f, 5)}
                            for t, (p, r, f) in scores.items()},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return model, scores
