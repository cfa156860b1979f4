"""Stage "contracts": family-doctor contracts and key populations of the synthetic county.

Key populations are classified with the platform's own rules (``contracts.rules.classify``) from the
registry and the clinical history, as of the reference date (1 July of the profile's year, as for the
clinical stage). Signing follows what counties report: about two thirds of living usual residents, and about
nine in ten of those in a key population (the stage's stats print both rates), few of those working away;
a person signs once: a second registration of someone (linked to the same person by the MPI stage) signs
nothing — the person's contract is on the first registration; contracts follow the yearly
signing campaign (terms start in the first months of the year and are renewed from one year to the next,
up to three years back); some lapse (expired), a few are ended at the resident's request, by death or by
moving away (terminated), and about one in a hundred signers moved here from another township and were
transferred from that township's team. Packages: the basic package plus the personalised package of each
key population the resident is in.

Each resident has its own random stream (as in ``synth.clinical``); rows are staged with
``kit.staging.StagingWriter`` and loaded with ``kit.dialect.load_staged`` in the stage's transaction.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, select
from sqlalchemy.orm import aliased

from rhip.contracts import rules
from rhip.contracts.models import ClassificationRun, Contract, ContractPackage, KeyPopulation
from rhip.kit.db import Database
from rhip.kit.dialect import load_staged, reset_sequence
from rhip.kit.staging import StagingWriter
from rhip.mpi.models import MpiLink
from rhip.records.models import Condition, Encounter
from rhip.registry.models import Organization, PractitionerOrg, Resident, Team, TeamMember, TeamVillage
from rhip.synth.clinical import ENCOUNTER_COLS, SOURCE
from rhip.synth.profiles import Profile
from rhip.synth.workers import WORKERS, run_workers

CONTRACT_COLS = ("id", "resident_id", "team_id", "doctor_id", "catalogue_version", "start_date", "end_date",
                 "ended_on", "status", "consent_date", "consent_method", "consent_witness", "fee_fen", "previous_id",
                 "end_reason", "end_note", "source", "version", "created_by", "created_at", "updated_at")
PACKAGE_COLS = ("contract_id", "package_code", "price_fen", "personal_fen")
KEY_COLS = ("resident_id", "population", "since", "reason_zh", "reason_en", "as_of", "computed_at")
STAGED = {"contract": CONTRACT_COLS, "contract_package": PACKAGE_COLS, "key_population": KEY_COLS,
          "encounter": ENCOUNTER_COLS}
TABLES = (Contract.__table__, ContractPackage.__table__, KeyPopulation.__table__)

SIGN_KEY = 0.90  # key-population usual residents who sign
SIGN_OTHER = 0.46  # other usual residents (≈ 2/3 of all usual residents sign, with the key populations)
SIGN_AWAY = 0.10  # registered here but living elsewhere
RENEW = 0.85  # a signer renews the next year
LAPSED = 0.25  # of those not signed now: had a contract that lapsed
ASKED_TO_END = 0.03  # a lapsed contract ended early at the resident's request instead
TRANSFERRED = 0.01  # signers who moved here from another township (contract transferred)
PACKAGE_OF = {"hypertension": "hypertension", "diabetes": "diabetes", "elderly65": "elderly", "child0_6": "child",
              "pregnant": "maternal", "smi": "smi", "tb": "tb", "disabled": "disabled"}
CONSENT = (("written", 0.70), ("e_signature", 0.25), ("verbal_witnessed", 0.05))
HOME_VISIT_ADHERENCE = 0.75  # promised home visits (elderly, child, disability packages) that happen
HOME_VISIT_ID_BASE = 8_000_000_000_000  # encounter ids of home visits: base + contract id × 8 + j (clear of the
                                        # clinical stage's resident × 64 + k)
CHUNK = 5000


@dataclass
class ContractStats:
    residents: int = 0
    key_residents: int = 0
    usual_alive: int = 0        # living usual residents (persons: second registrations not counted)
    signed_now: int = 0         # contracts in force on the reference date (any resident)
    key_signed_now: int = 0
    usual_signed: int = 0       # living usual residents with a contract in force
    key_usual_alive: int = 0    # living usual residents in a key population
    key_usual_signed: int = 0
    second_registrations: int = 0  # registrations of a person who has an earlier one (no contract of their own)
    contracts: int = 0
    renewed: int = 0
    expired: int = 0
    terminated: int = 0
    transferred: int = 0
    memberships: int = 0
    home_visits: int = 0


@dataclass
class Teams:
    by_village: dict[str, int]  # village code → team id
    doctor: dict[str, int]  # village code → responsible doctor (the village's own doctor, else the team leader)
    other_team: dict[int, tuple[int, int]]  # team id → (another team, its leader) for transfers
    clinic: dict[str, int]  # village code → village clinic org id
    team_org: dict[int, int]  # team id → the team's organization


@dataclass
class StagedContracts:
    dialect: str
    paths: list[Path]
    classified_at: datetime
    stats: ContractStats = field(default_factory=ContractStats)

    def attach(self) -> dict[str, Path]:
        return {f"contracts{i}": p for i, p in enumerate(self.paths)} if self.dialect == "sqlite" else {}


def _rng(seed: int, resident_id: int) -> random.Random:
    return random.Random(int.from_bytes(hashlib.blake2b(f"{seed}:k:{resident_id}".encode(), digest_size=8).digest(),
                                        "big"))


def teams(db: Database) -> Teams:
    with db.read_only() as s:
        by_village: dict[str, int] = {}
        for tid, code in s.execute(select(TeamVillage.team_id, TeamVillage.division_code)
                                   .order_by(TeamVillage.team_id)):
            by_village.setdefault(code, tid)
        leaders: dict[int, int] = {}
        village_doctor: dict[str, int] = {}
        q = (select(TeamMember.team_id, TeamMember.practitioner_id, TeamMember.role, Organization.division_code,
                    Organization.kind)
             .join(PractitionerOrg, PractitionerOrg.practitioner_id == TeamMember.practitioner_id)
             .join(Organization, Organization.id == PractitionerOrg.org_id)
             .order_by(TeamMember.team_id, TeamMember.practitioner_id))
        clinic = {code: oid for oid, code in s.execute(select(Organization.id, Organization.division_code)
                                                        .where(Organization.kind == "village_clinic"))}
        team_org = dict(s.execute(select(Team.id, Team.org_id)).all())
        for tid, pid, role, division, kind in s.execute(q):
            if role == "leader":
                leaders.setdefault(tid, pid)
            if role == "village_doctor" and kind == "village_clinic" and by_village.get(division) == tid:
                village_doctor.setdefault(division, pid)
    doctor = {v: village_doctor.get(v) or leaders.get(t) for v, t in by_village.items()}
    ids = sorted(leaders)
    other = {t: (ids[(i + 1) % len(ids)], leaders[ids[(i + 1) % len(ids)]]) for i, t in enumerate(ids) if len(ids) > 1}
    return Teams(by_village, {v: d for v, d in doctor.items() if d}, other, clinic, team_org)


def _consent(rng: random.Random) -> tuple[str, str | None]:
    r = rng.random()
    for method, share in CONSENT:
        if r < share:
            return method, ("村民委员会干部" if method == "verbal_witnessed" else None)
        r -= share
    return "written", None


class Generator:
    """Contracts of one resident at a time, appended to ``rows``."""

    def __init__(self, seed: int, ref: date, tm: Teams, stats: ContractStats):
        self.seed, self.ref, self.tm, self.stats = seed, ref, tm, stats
        self.cat = rules.catalogue_on(ref)
        self.term = 0  # terms of the current resident: contract id = resident id × 8 + term
        self.created = datetime(ref.year, ref.month, ref.day, 8)
        self._ref_text, self._created_text = ref.isoformat(), self.created.isoformat(sep=" ")
        self._fees = {code: (round(p.price * 100), round(p.personal * 100)) for code, p in self.cat.packages.items()}
        self.contracts: list[tuple] = []
        self.packages: list[tuple] = []
        self.keys: list[tuple] = []
        self.encounters: list[tuple] = []
        self.village = ""

    def resident(self, rid: int, facts: rules.ResidentFacts, village: str, usual_local: bool,
                 status_date: date | None, second: bool = False) -> None:
        st = self.stats
        st.residents += 1
        self.term = 0
        members = rules.classify(facts, self.ref)
        self.keys += [(rid, m.population, m.since.isoformat() if m.since else None, m.reason_zh, m.reason_en,
                       self._ref_text, self._created_text) for m in members]
        st.memberships += len(members)
        populations = {m.population for m in members}
        key = bool(populations)
        st.key_residents += key
        if second:  # one contract per person: the person signs (or not) on the first registration
            st.second_registrations += 1
            return
        alive = facts.status == "alive"
        if alive and usual_local:
            st.usual_alive += 1
            st.key_usual_alive += key
        team = self.tm.by_village.get(village)
        doctor = self.tm.doctor.get(village)
        self.village = village
        if team is None or doctor is None:
            return
        rng = _rng(self.seed, rid)
        p = (SIGN_KEY if key else SIGN_OTHER) if usual_local else SIGN_AWAY
        codes = ["basic"] + sorted({PACKAGE_OF[x] for x in populations if x in PACKAGE_OF})
        if not alive:
            if not status_date or rng.random() >= p:
                return
            # signed until death or moving away: the term in force then is terminated
            years = 1 + int(rng.random() * 3)
            start = self._campaign_start(rng, status_date.year - years + 1)
            if start > status_date:
                start = self._campaign_start(rng, status_date.year - years)
            self._chain(rid, team, doctor, codes, rng, start, until=status_date,
                        last=("terminated", "deceased" if facts.status == "deceased" else "moved_out", status_date))
            return
        if rng.random() < p:
            st.signed_now += 1
            st.key_signed_now += key
            if usual_local:
                st.usual_signed += 1
                st.key_usual_signed += key
            back = 0
            while back < 3 and rng.random() < RENEW:
                back += 1
            start = self._campaign_start(rng, self.ref.year - back, new=back == 0)
            transfer = back > 0 and rng.random() < TRANSFERRED and team in self.tm.other_team
            self._chain(rid, team, doctor, codes, rng, start, until=None, last=None, transfer=transfer)
        elif rng.random() < LAPSED:
            back = 1 + int(rng.random() * 2)
            start = self._campaign_start(rng, self.ref.year - back)
            end_year = rules.default_end(start, 12)
            if rng.random() < ASKED_TO_END:
                day = start + timedelta(days=int(rng.random() * (end_year - start).days))
                self._chain(rid, team, doctor, codes, rng, start, until=day,
                            last=("terminated", "resident_request", day))
            else:  # ``back`` yearly terms, the last of which ended before the reference date
                self._chain(rid, team, doctor, codes, rng, start, until=rules.default_end(start, 12 * back),
                            last=("expired",))

    def _campaign_start(self, rng: random.Random, year: int, new: bool = False) -> date:
        """Signing campaigns run early in the year; a resident signing for the first time this year may do
        so any time before the reference date."""
        if new:
            span = max(1, (self.ref - date(year, 1, 1)).days)
            return date(year, 1, 1) + timedelta(days=int(rng.random() * span))
        return date(year, 1, 1) + timedelta(days=int(rng.random() ** 2 * 90))

    def _chain(self, rid: int, team: int, doctor: int, codes: list[str], rng: random.Random, start: date, *,
               until: date | None, last: tuple | None, transfer: bool = False) -> None:
        """Consecutive yearly terms from ``start``: all renewed but the last, which is active (``until`` is
        None: it covers the reference date) or ended as ``last`` says."""
        prev = None
        while True:
            end = rules.default_end(start, 12)
            final = (until is None and end >= self.ref) or (until is not None and end >= until)
            if transfer and prev is None:
                other, other_doc = self.tm.other_team[team]
                moved = start + timedelta(days=30 + int(rng.random() * 200))
                prev = self._row(rid, other, other_doc, codes, rng, start, end, "transferred", prev,
                                 ended_on=moved - timedelta(days=1), reason="transfer", note="居民迁居本乡镇")
                self.stats.transferred += 1
                start_here, fee = moved, False
            else:
                start_here, fee = start, True
            if not final:
                prev = self._row(rid, team, doctor, codes, rng, start_here, end, "renewed", prev, charge=fee)
                self.stats.renewed += 1
                start = end + timedelta(days=1)
                continue
            if last is None:
                self._row(rid, team, doctor, codes, rng, start_here, end, "active", prev, charge=fee)
            elif last[0] == "expired":
                self._row(rid, team, doctor, codes, rng, start_here, end, "expired", prev, charge=fee)
                self.stats.expired += 1
            else:
                _, reason, day = last
                ended = day if day >= start_here else start_here - timedelta(days=1)
                self._row(rid, team, doctor, codes, rng, start_here, end, "terminated", prev, ended_on=ended,
                          reason=reason, charge=fee)
                self.stats.terminated += 1
            return

    def _row(self, rid: int, team: int, doctor: int, codes: list[str], rng: random.Random, start: date, end: date,
             status: str, prev: int | None, *, ended_on: date | None = None, reason: str | None = None,
             note: str | None = None, charge: bool = True) -> int:
        if self.term >= 8:
            raise ValueError(f"resident {rid}: more than 8 contract terms")
        cid = rid * 8 + self.term
        self.term += 1
        method, witness = _consent(rng)
        consent = start - timedelta(days=int(rng.random() * 10))
        fee = 0
        for code in codes:
            price, personal = self._fees[code]
            personal = personal if charge else 0
            fee += personal
            self.packages.append((cid, code, price, personal))
        at = datetime(consent.year, consent.month, consent.day, 9).isoformat(sep=" ")
        self.contracts.append((cid, rid, team, doctor, self.cat.version, start.isoformat(), end.isoformat(),
                               ended_on.isoformat() if ended_on else None, status, consent.isoformat(), method,
                               witness, fee, prev, reason, note, "synth", 1, "synth", at, at))
        self.stats.contracts += 1
        if status != "transferred":
            self._home_visits(cid, rid, team, doctor, codes, rng, start, min(ended_on or end, end, self.ref))
        return cid

    def _home_visits(self, cid: int, rid: int, team: int, doctor: int, codes: list[str], rng: random.Random,
                     start: date, last: date) -> None:
        """The home visits the packages promise, most of them done (shortly before they fall due)."""
        n = rules.promised_services(self.cat, codes).get("home_visit", 0)
        if not n or last < start:
            return
        end = rules.default_end(start, 12)
        org = self.tm.clinic.get(self.village) or self.tm.team_org.get(team)
        for j, due in enumerate(rules.due_dates(n, start, end)[:8]):
            if rng.random() >= HOME_VISIT_ADHERENCE:
                continue
            day = max(start, due - timedelta(days=int(rng.random() * 75)))
            if day > last:
                continue
            t0 = datetime(day.year, day.month, day.day, 9 + int(rng.random() * 8), int(rng.random() * 60))
            eid = HOME_VISIT_ID_BASE + cid * 8 + j
            at = t0.isoformat(sep=" ")
            self.encounters.append((eid, rid, org, doctor, SOURCE, f"K{eid}", 1, at, at, "home_visit", "finished", at,
                                    (t0 + timedelta(minutes=20 + int(rng.random() * 40))).isoformat(sep=" "),
                                    "家庭医生签约上门服务"))
            self.stats.home_visits += 1


def _chunk_rows(db: Database, last: int) -> tuple[list[tuple], dict[int, list[tuple]], set[int]]:
    cols = (Resident.id, Resident.birth_date, Resident.sex, Resident.status, Resident.status_date,
            Resident.disability, Resident.poverty_registered, Resident.fp_special_family, Resident.village_code,
            Resident.usual_local)
    with db.read_only() as s:
        rows = [tuple(r) for r in s.execute(select(*cols).where(Resident.id > last).order_by(Resident.id)
                                            .limit(CHUNK))]
        conds: dict[int, list[tuple]] = {}
        if rows:
            for rid, *rest in s.execute(
                    select(Condition.resident_id, Condition.code, Condition.onset_date, Condition.recorded_date,
                           Condition.clinical_status, Condition.verification_status)
                    .where(Condition.resident_id >= rows[0][0], Condition.resident_id <= rows[-1][0])):
                conds.setdefault(rid, []).append(tuple(rest))
    return rows, conds, (_second_registrations(db, rows[0][0], rows[-1][0]) if rows else set())


def _second_registrations(db: Database, lo: int, hi: int) -> set[int]:
    """Registrations in ``lo..hi`` whose MPI person has a registration with a lower id (the first one)."""
    other = aliased(MpiLink)
    with db.read_only() as s:
        return set(s.scalars(select(MpiLink.resident_id).distinct()
                             .join(other, (other.person_id == MpiLink.person_id)
                                   & (other.resident_id < MpiLink.resident_id))
                             .where(MpiLink.resident_id >= lo, MpiLink.resident_id <= hi)))


def generate(gen: Generator, rows: list[tuple], conds: dict[int, list[tuple]], second: set[int] = frozenset()
             ) -> None:
    ref = gen.ref
    for rid, birth, sex, status, status_date, disability, poor, fp, village, usual in rows:
        # the reference date is the generator's "today": someone who dies after it is alive then
        gone_later = status != "alive" and status_date is not None and status_date > ref
        facts = rules.ResidentFacts(birth, sex, "alive" if gone_later else status, disability, bool(poor), bool(fp),
                                    tuple(rules.ConditionFact(code, onset or recorded, clinical, verification)
                                          for code, onset, recorded, clinical, verification in conds.get(rid, ())))
        gen.resident(rid, facts, village, bool(usual), None if gone_later else status_date, rid in second)


def work(tasks, results, seed: int, ref: date, tm: Teams, dialect: str, path) -> None:
    """A worker process: the contracts of each chunk of residents into its own staging."""
    import gc
    import traceback

    try:
        gc.disable()  # acyclic rows only (see synth.generate)
        writer = StagingWriter(dialect, path, STAGED)
        stats = ContractStats()
        gen = Generator(seed, ref, tm, stats)
        while (task := tasks.get()) is not None:
            rows, conds, second = task
            generate(gen, rows, conds, second)
            for table, attr in (("contract", "contracts"), ("contract_package", "packages"),
                                ("key_population", "keys"), ("encounter", "encounters")):
                writer.write(table, getattr(gen, attr))  # values are already text, numbers or None
                setattr(gen, attr, [])
            results.put(("progress", len(rows)))
        writer.close()
        results.put(("done", stats))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the stage
        results.put(("error", traceback.format_exc()))


def stage(db: Database, profile: Profile, seed: int, workdir: Path, progress=None) -> StagedContracts:
    """Generate every resident's contracts and key populations: chunks of residents (with their conditions)
    are fed to worker processes, each staging its rows in a file of its own. Ids derive from resident ids,
    so the rows do not depend on how the work is split."""
    ref = date(profile.as_of_year, 7, 1)
    tm = teams(db)
    if not tm.by_village:
        raise RuntimeError("stage contracts needs family-doctor teams (stage structure)")
    paths = [workdir / (f"contracts{i}.db" if db.dialect == "sqlite" else f"contracts{i}") for i in range(WORKERS)]
    stats = ContractStats()

    def add(payload: ContractStats) -> None:
        for f in stats.__dataclass_fields__:
            setattr(stats, f, getattr(stats, f) + getattr(payload, f))

    def chunks():
        last = -1
        while True:
            rows, conds, second = _chunk_rows(db, last)
            if not rows:
                return
            last = rows[-1][0]
            yield rows, conds, second

    run_workers(work, lambda i: (seed, ref, tm, db.dialect, paths[i]), chunks(), name="contracts", on_done=add,
                progress=progress)
    return StagedContracts(db.dialect, paths, datetime(ref.year, ref.month, ref.day, 8), stats)


def load(conn: Connection, staged: StagedContracts) -> int:
    written = 0
    for i, path in enumerate(staged.paths):
        for table in (*TABLES, Encounter.__table__):
            written += load_staged(conn, table, STAGED[table.name], path, f"contracts{i}")
    reset_sequence(conn, Contract.__table__)
    conn.execute(ClassificationRun.__table__.insert().values(
        started_at=staged.classified_at, as_of=staged.classified_at.date(), mode="synth",
        residents=staged.stats.residents))
    return written


def stats_dict(staged: StagedContracts) -> dict:
    st = staged.stats
    d = asdict(st)
    d.update(signing_rates(st))
    return d


def signing_rates(st: ContractStats) -> dict:
    """签约率 and 重点人群签约率 of the generated county: contracts in force on the reference date among living
    usual residents (persons), and among those of them in a key population."""
    return {"signing_rate": round(st.usual_signed / st.usual_alive, 3) if st.usual_alive else None,
            "key_signing_rate": round(st.key_usual_signed / st.key_usual_alive, 3) if st.key_usual_alive else None}
