"""Fitting the Fellegi–Sunter parameters: EM over the comparison patterns of blocked candidate pairs.

* ``u`` starts from random pairs (almost all of them different people), ``m`` from a plain prior.
* EM (numpy) then estimates λ, m and u on the candidate pairs that blocking produces — the population the
  online matcher scores — with conditional independence of the fields given match status.
* The thresholds come from the fitted model itself, not from labels: the match threshold is the lowest
  probability above which the model's own expected share of false links is at most ``max_false_link_share``;
  the possible threshold the highest one below which the expected share of missed true pairs is at most
  ``max_missed_share``.

``fit_patterns`` is pure (tested on synthetic patterns); ``patterns_from_records`` turns registrations into
pattern counts. The command ``rhip mpi fit`` (cli_online) runs both over the current database.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timezone

import numpy as np

from rhip.mpi.candidates import candidate_pairs, compare_pair
from rhip.mpi.rules import PersonFields
from rhip.mpi.rules_score import FIELD_LEVELS, ScoringParams

FIELDS = tuple(FIELD_LEVELS)
# Level values per field, non-missing first in declaration order; MISSING is the last index.
LEVEL_VALUES = {f: [lv.value for lv in FIELD_LEVELS[f]] for f in FIELDS}
MISSING_INDEX = {f: LEVEL_VALUES[f].index("missing") for f in FIELDS}

Pattern = tuple[int, ...]
#: Fields that are compared (and shown to reviewers) but carry weight 0. Household: pairs inside one
#: household are different people by construction of the registry, and a second registration is almost never
#: filed into the same household, so "same household" is not evidence of a match; the key only proposes pairs.
NEUTRAL_FIELDS = ("household",)


def pattern_of(levels: Mapping) -> Pattern:
    return tuple(LEVEL_VALUES[f].index(levels[f].value) for f in FIELDS)


def patterns_from_pairs(records: Mapping[int, PersonFields], pairs) -> Counter:
    return Counter(pattern_of(compare_pair(records[a], records[b])) for a, b in pairs)


def random_pairs(ids: list[int], n: int, rng: random.Random) -> list[tuple[int, int]]:
    out = []
    if len(ids) < 2:
        return out
    for _ in range(n):
        a, b = rng.sample(ids, 2)
        out.append((a, b))
    return out


def _normalise(table: np.ndarray, missing: int) -> np.ndarray:
    t = table.copy()
    t[missing] = 0.0
    total = t.sum()
    return t / total if total > 0 else np.full_like(t, 1.0 / (len(t) - 1)) * (np.arange(len(t)) != missing)


def u_from_random(counts: Counter) -> dict[str, np.ndarray]:
    """u per field from the pattern counts of random pairs (add-one smoothed, MISSING excluded)."""
    u = {}
    for fi, f in enumerate(FIELDS):
        t = np.ones(len(LEVEL_VALUES[f]))
        for pat, c in counts.items():
            t[pat[fi]] += c
        u[f] = _normalise(t, MISSING_INDEX[f])
    return u


#: Smallest m of any level: synthetic data never shows some faults (a wholly new phone for the same person),
#: but real data does; without a floor EM would call such a level impossible for a match (weight −20 and less).
M_FLOOR = 0.002
#: The thresholds from the model are kept inside these bands: on well separated data the model's posterior
#: is 0 or 1 to many digits and would put both thresholds at 0.999998, leaving nothing for review.
MATCH_BAND = (0.99, 0.99999)
POSSIBLE_BAND = (0.5, 0.9)


def _floored(t: np.ndarray, u: np.ndarray, missing: int) -> np.ndarray:
    """m raised to at least M_FLOOR — or to u where u is smaller (a level seen neither among matches nor
    among random pairs then weighs 0, not a made-up bonus)."""
    return _normalise(np.maximum(t, np.minimum(M_FLOOR, u)), missing)


def _initial_m(f: str) -> np.ndarray:
    """Agreement likely for the same person: geometric decay over the levels (best first)."""
    n = len(LEVEL_VALUES[f])
    t = np.array([0.5 ** i for i in range(n)])
    return _normalise(t, MISSING_INDEX[f])


def fit_patterns(counts: Counter, *, u_start: dict[str, np.ndarray] | None = None, prior_start: float = 0.05,
                 iterations: int = 200, tolerance: float = 1e-7, fix_u: bool = True,
                 neutral: tuple[str, ...] = (), exclude: tuple[str, ...] = (),
                 m_start: dict[str, np.ndarray] | None = None, fix_m: bool = False,
                 ) -> tuple[float, dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """EM over pattern counts → (λ, m, u, patterns matrix, posterior match probability per pattern).

    ``exclude``: fields left out of the likelihood (and not re-estimated) — the fields a blocking rule
    forces to agree, which would otherwise make "shares the blocking key" the latent class.
    ``fix_m``/``fix_u``: keep m or u as started (``fix_m`` with ``fix_u`` estimates λ alone)."""
    if not counts:
        raise ValueError("no candidate pairs to fit on")
    pats = np.array(list(counts.keys()), dtype=np.int64)
    w = np.array(list(counts.values()), dtype=float)
    m = {f: (m_start[f].copy() if m_start else _initial_m(f)) for f in FIELDS}
    used = [(fi, f) for fi, f in enumerate(FIELDS) if f not in exclude]
    u = {f: (u_start[f].copy() if u_start else _normalise(np.ones(len(LEVEL_VALUES[f])), MISSING_INDEX[f]))
         for f in FIELDS}
    lam = prior_start
    post = np.zeros(len(w))
    for _ in range(iterations):
        log_m = np.zeros(len(w))
        log_u = np.zeros(len(w))
        for fi, f in used:
            col = pats[:, fi]
            present = col != MISSING_INDEX[f]
            log_m += np.where(present, np.log(np.maximum(m[f][col], 1e-12)), 0.0)
            log_u += np.where(present, np.log(np.maximum(u[f][col], 1e-12)), 0.0)
        a = np.log(lam) + log_m
        b = np.log(1 - lam) + log_u
        new_post = 1.0 / (1.0 + np.exp(np.clip(b - a, -700, 700)))
        wp, wn = w * new_post, w * (1 - new_post)
        lam_new = float(wp.sum() / w.sum())
        lam_new = min(max(lam_new, 1e-9), 1 - 1e-9)
        for fi, f in used:
            col = pats[:, fi]
            n = len(LEVEL_VALUES[f])
            if not fix_m:
                tm = np.bincount(col, weights=wp, minlength=n) + 1e-9
                m[f] = _normalise(tm, MISSING_INDEX[f])
            if not fix_u:
                tu = np.bincount(col, weights=wn, minlength=n) + 1e-9
                u[f] = _normalise(tu, MISSING_INDEX[f])
        for f in neutral:  # compared and shown, but no evidence either way: m = u
            m[f] = u[f].copy()
        done = abs(lam_new - lam) < tolerance and np.max(np.abs(new_post - post)) < 1e-6
        lam, post = lam_new, new_post
        if done:
            break
    return lam, m, u, pats, post


def thresholds_from_model(w: np.ndarray, post: np.ndarray, *, max_false_link_share: float,
                          max_missed_share: float) -> tuple[float, float]:
    """(match, possible) probability thresholds from the model's own posterior over pattern counts ``w``."""
    order = np.argsort(-post)
    p_sorted, w_sorted = post[order], w[order]
    true_sorted = w_sorted * p_sorted
    cum_pairs, cum_true = np.cumsum(w_sorted), np.cumsum(true_sorted)
    false_share = 1 - cum_true / np.maximum(cum_pairs, 1e-12)
    ok = np.nonzero(false_share <= max_false_link_share)[0]
    match_t = float(p_sorted[ok[-1]]) if len(ok) else float(p_sorted[0])
    total_true = cum_true[-1]
    missed = 1 - cum_true / max(total_true, 1e-12)  # expected true pairs below each cut
    idx = np.nonzero(missed <= max_missed_share)[0]
    possible_t = float(p_sorted[idx[0]]) if len(idx) else float(p_sorted[-1])
    match_t = min(max(match_t, MATCH_BAND[0]), MATCH_BAND[1])
    possible_t = min(max(possible_t, POSSIBLE_BAND[0]), POSSIBLE_BAND[1])
    return match_t, possible_t


def to_params(lam: float, m: dict[str, np.ndarray], u: dict[str, np.ndarray], match_t: float, possible_t: float,
              fitted: dict) -> ScoringParams:
    def table(t):
        return {f: {LEVEL_VALUES[f][i]: round(float(t[f][i]), 8) for i in range(len(LEVEL_VALUES[f]))
                    if i != MISSING_INDEX[f]} for f in FIELDS}
    return ScoringParams(m=table(m), u=table(u), prior=round(lam, 8), match_threshold=round(match_t, 6),
                         possible_threshold=round(possible_t, 6),
                         candidate_threshold=round(min(possible_t, 0.05), 6), fitted=fitted)


#: One EM session per strong blocking-key kind, with the fields that kind forces to agree left out
#: (the ID number embeds the birth date and the sex).
SESSIONS: dict[str, tuple[str, ...]] = {
    "id": ("id_number", "birth_date", "sex"),
    "py": ("name", "birth_date"),
    "ph": ("phone",),
}
#: Key kinds whose pairs are scored but left out of the fit: the surname+birth-date+sex key is a safety net
#: for recall; its many same-birthday pairs made the final EM put a third of all pairs in the match class.
NOT_FITTED_KINDS = frozenset({"bd"})


def fit_records(records: Mapping[int, PersonFields], *, seed: int = 7, random_pair_count: int = 50_000,
                max_false_link_share: float = 0.001, max_missed_share: float = 0.005,
                neutral: tuple[str, ...] = NEUTRAL_FIELDS, source: str = "") -> tuple[ScoringParams, dict]:
    """Fit on a set of registrations.

    1. u from random pairs (fixed).
    2. One EM session per strong blocking kind over the pairs sharing such a key, leaving out the fields
       that kind forces to agree; each field's m is the pair-weighted mean over the sessions that estimate it.
    3. λ and u by EM over all candidate pairs with m fixed; thresholds from that final posterior.
    """
    pairs = {pr: kinds for pr, kinds in candidate_pairs(records).items() if kinds - NOT_FITTED_KINDS}
    counts = patterns_from_pairs(records, pairs.keys())
    rng = random.Random(seed)
    ids = list(records)
    rand_counts = patterns_from_pairs(records, random_pairs(ids, min(random_pair_count, len(ids) * 10), rng))
    u0 = u_from_random(rand_counts)
    sums = {f: np.zeros(len(LEVEL_VALUES[f])) for f in FIELDS}
    weights = {f: 0.0 for f in FIELDS}
    sessions = {}
    for kind, excluded in SESSIONS.items():
        chosen = [pr for pr, kinds in pairs.items() if kind in kinds]
        if not chosen:
            continue
        sc = patterns_from_pairs(records, chosen)
        lam_k, m_k, _, _, _ = fit_patterns(sc, u_start=u0, fix_u=True, exclude=excluded, prior_start=0.5)
        sessions[kind] = {"pairs": len(chosen), "lambda": round(lam_k, 6)}
        for f in FIELDS:
            if f not in excluded:
                sums[f] += m_k[f] * len(chosen)
                weights[f] += len(chosen)
    m = {f: _floored(_normalise(sums[f], MISSING_INDEX[f]) if weights[f] else _initial_m(f), u0[f],
                     MISSING_INDEX[f]) for f in FIELDS}
    for f in neutral:
        m[f] = u0[f].copy()
    # u of the population actually scored: blocked candidates are not random pairs (they share a name's
    # pinyin and birth year, a village, a phone), so u is re-estimated on them with m held fixed.
    lam, m, u, pats, post = fit_patterns(counts, u_start=u0, m_start=m, fix_u=False, fix_m=True, prior_start=0.05,
                                         neutral=neutral)
    for f in FIELDS:  # a level seen neither among matches nor among candidates carries no weight
        unseen = (m[f] <= M_FLOOR * 1.01) & (u[f] < M_FLOOR)
        u[f] = np.where(unseen, m[f], u[f])
    w = np.array(list(counts.values()), dtype=float)
    match_t, possible_t = thresholds_from_model(w, post, max_false_link_share=max_false_link_share,
                                                max_missed_share=max_missed_share)
    info = {"method": "u started from random pairs; m by EM per strong blocking-key kind with the fields that "
                      "kind forces to agree left out; prior and u by EM over all candidate pairs with m fixed; "
                      "thresholds from the model's expected false-link and missed-pair shares",
            "records": len(records), "candidate_pairs": len(pairs), "random_pairs": sum(rand_counts.values()),
            "sessions": sessions, "neutral_fields": list(neutral),
            "max_false_link_share": max_false_link_share, "max_missed_share": max_missed_share,
            "source": source, "fitted_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    return to_params(lam, m, u, match_t, possible_t, info), {"pairs": pairs, "counts": counts}
