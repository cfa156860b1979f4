"""Indexing a whole registry in one pass (the synthetic county's 'mpi' stage, ``rhip mpi index``).

The same blocking keys, pair rule and scoring as matching on write, but over all registrations at once:
candidate pairs in memory, scored once each, matches joined into persons (union–find), possibles queued for
review, then persons, links, blocking keys and review pairs written with bulk inserts. Registrations already
in the index keep their person; a new one joins a person only through a match.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass

from sqlalchemy import Connection, select

from rhip.kit import clock
from rhip.kit.dialect import bulk_insert, reset_sequence
from rhip.mpi import repository as repo
from rhip.mpi.candidates import candidate_pairs, compare_pair, fields_of, hashed_keys, mpi_keys
from rhip.mpi.models import REGISTRY_SYSTEM, MpiBlock, MpiLink, MpiPerson, MpiReview
from rhip.mpi.rules_score import MATCH, POSSIBLE, ScoringParams, classify_pair, score


@dataclass
class IndexStats:
    records: int = 0
    new_records: int = 0
    candidate_pairs: int = 0
    match_pairs: int = 0
    possible_pairs: int = 0
    persons_created: int = 0
    linked: int = 0          # new records that joined another record's person
    queued: int = 0          # review pairs written
    seconds: float = 0.0
    truth: dict | None = None  # precision/recall against synth_truth, when the county is synthetic


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def index_registry(conn: Connection, params: ScoringParams,
                   progress: Callable[[int], None] | None = None) -> IndexStats:
    """Index every registration not yet in the MPI, inside the caller's transaction."""
    t0 = time.perf_counter()
    st = IndexStats()
    now = clock.now()
    records, villages = {}, {}
    for rows in repo.iter_field_rows(conn):
        for row in rows:
            records[row[0]] = fields_of(*row[1:])
            villages[row[0]] = row[8]
    st.records = len(records)
    existing_person = dict(conn.execute(select(MpiLink.resident_id, MpiLink.person_id)
                                        .where(MpiLink.resident_id.is_not(None))).all())
    new_ids = [rid for rid in records if rid not in existing_person]
    st.new_records = len(new_ids)
    if not new_ids:
        st.seconds = time.perf_counter() - t0
        return st
    new_set = set(new_ids)
    keys = {rid: mpi_keys(p) for rid, p in records.items()}
    pairs = candidate_pairs(records, keys)
    known_reviews = {tuple(r) for r in conn.execute(select(MpiReview.resident_a, MpiReview.resident_b))}
    scored = []
    for (a, b) in pairs:
        if a not in new_set and b not in new_set:
            continue
        if (a, b) in known_reviews:
            continue
        levels = compare_pair(records[a], records[b])
        sc = score(levels, params)
        outcome = classify_pair(levels, sc.probability, params)
        if outcome != "no_match":
            scored.append((sc.probability, a, b, outcome, sc.weight, levels))
        st.candidate_pairs += 1
        if progress and st.candidate_pairs % 20_000 == 0:
            progress(20_000)
    scored.sort(key=lambda x: (-x[0], x[1], x[2]))
    uf = _UnionFind()
    by_person: dict[int, int] = {}
    for rid, pid in existing_person.items():  # registrations of one existing person start joined
        if pid in by_person:
            uf.union(by_person[pid], rid)
        else:
            by_person[pid] = rid
    root_person: dict[int, int] = {uf.find(rid): pid for rid, pid in existing_person.items()}
    reviews = []
    for prob, a, b, outcome, weight, levels in scored:
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        if outcome == MATCH and not (ra in root_person and rb in root_person):
            uf.union(a, b)
            keep = uf.find(a)
            pid = root_person.pop(ra, None) or root_person.pop(rb, None)
            if pid is not None:
                root_person[keep] = pid
            st.match_pairs += 1
            continue
        st.possible_pairs += outcome == POSSIBLE
        reviews.append({"resident_a": a, "resident_b": b, "village_a": villages[a], "village_b": villages[b],
                        "score": prob, "weight": weight, "levels": json.dumps({k: v.value for k, v in levels.items()}),
                        "status": "pending", "created_at": now})
    # persons for clusters without one; links and blocking keys for every new registration
    next_person = repo.max_id(conn, MpiPerson) + 1
    persons, links, blocks = [], [], []
    next_link = repo.max_id(conn, MpiLink) + 1
    for rid in sorted(new_ids):
        root = uf.find(rid)
        pid = root_person.get(root)
        how = "index"
        if pid is None:
            pid = next_person
            next_person += 1
            root_person[root] = pid
            persons.append((pid, repo.new_empi(), "active", now))
        elif root != rid or existing_person.get(root) is not None:
            how = "auto"
            st.linked += 1
        links.append((next_link, REGISTRY_SYSTEM, str(rid), pid, rid, "active", None, how, None, now))
        next_link += 1
        blocks.extend((h, rid) for h in hashed_keys(records[rid], keys[rid]))
    blocks.sort()
    # a cluster's first registration counts as "index", the later ones as linked to it
    st.persons_created = len(persons)
    bulk_insert(conn, MpiPerson.__table__, ("id", "empi", "status", "created_at"), persons)
    bulk_insert(conn, MpiLink.__table__, ("id", "source_system", "source_id", "person_id", "resident_id", "status",
                                          "replaced_by_resident_id", "how", "score", "updated_at"), links)
    bulk_insert(conn, MpiBlock.__table__, ("key", "resident_id"), blocks)
    cols = ("resident_a", "resident_b", "village_a", "village_b", "score", "weight", "levels", "status",
            "created_at")
    bulk_insert(conn, MpiReview.__table__, cols, [tuple(r[c] for c in cols) for r in reviews])
    for table in (MpiPerson.__table__, MpiLink.__table__, MpiReview.__table__):
        reset_sequence(conn, table)  # ids were given explicitly (PostgreSQL's sequences must catch up)
    st.queued = len(reviews)
    st.truth = truth_scores(conn, {rid: root_person[uf.find(rid)] for rid in records if rid in new_set
                                   or rid in existing_person}, reviews)
    st.seconds = time.perf_counter() - t0
    return st


def truth_scores(conn: Connection, person_of: dict[int, int], reviews: list[dict]) -> dict | None:
    """Pairwise precision, recall and F1 of the automatic links against ``synth_truth`` (and the recall
    once the review queue is decided correctly). None when the registry has no ground truth."""
    from rhip.synth.models import SynthTruth

    truth = dict(conn.execute(select(SynthTruth.resident_id, SynthTruth.person_id)).all())
    if not truth:
        return None
    true_of = {rid: truth.get(rid, rid) for rid in person_of}
    clusters: dict[int, list[int]] = defaultdict(list)
    for rid, pid in person_of.items():
        clusters[pid].append(rid)
    true_groups: dict[int, int] = defaultdict(int)
    for rid in person_of:
        true_groups[true_of[rid]] += 1
    true_pairs = sum(n * (n - 1) // 2 for n in true_groups.values())
    linked_pairs = correct = 0
    for members in clusters.values():
        n = len(members)
        if n < 2:
            continue
        linked_pairs += n * (n - 1) // 2
        counts: dict[int, int] = defaultdict(int)
        for rid in members:
            counts[true_of[rid]] += 1
        correct += sum(k * (k - 1) // 2 for k in counts.values())
    queued_true = sum(1 for r in reviews if true_of.get(r["resident_a"]) == true_of.get(r["resident_b"])
                      and person_of.get(r["resident_a"]) != person_of.get(r["resident_b"]))
    precision = correct / linked_pairs if linked_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"true_pairs": true_pairs, "linked_pairs": linked_pairs, "correct_pairs": correct,
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "queued_true_pairs": queued_true, "queued_pairs": len(reviews),
            "recall_after_review": round((correct + queued_true) / true_pairs, 4) if true_pairs else 1.0}


def stats_dict(st: IndexStats) -> dict:
    return asdict(st)


def synth_stage(conn: Connection, profile, seed: int, _prepared, progress) -> tuple[int, dict]:
    """The synthetic county's 'mpi' stage: index every registration, resolving the second registrations."""
    from rhip.mpi.service import params

    st = index_registry(conn, params(), progress=(lambda n: progress("mpi", n, 0)) if progress else None)
    return st.new_records, stats_dict(st)
