"""Pure rules of family-doctor contracts: the package catalogue, key-population classification, contract
dates, and fulfilment (履约). No I/O except reading the packaged, versioned rule data under
``rhip/contracts/data/`` (``packages.json``, ``key_populations.json``): what varies by province is data
with documented defaults, not code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from rhip.kit.errors import FieldError
from rhip.kit.versioned import dated_versions
from rhip.programs.rules_common import add_months
from rhip.registry.rules import age_on

DATA_PACKAGE = "rhip.contracts.data"

STATUSES = {
    "active": ("有效", "active"),
    "renewed": ("已续约", "renewed"),
    "transferred": ("已转签", "transferred"),
    "terminated": ("已解约", "terminated"),
    "expired": ("已到期", "expired"),
}
CONSENT_METHODS = {
    "written": ("书面签字", "written signature"),
    "e_signature": ("电子签名", "electronic signature"),
    "verbal_witnessed": ("口头同意并有见证人", "verbal, witnessed"),
}
TERMINATION_REASONS = {
    "resident_request": ("居民申请解约", "at the resident's request"),
    "moved_out": ("居民迁出", "resident moved away"),
    "deceased": ("居民死亡", "resident died"),
    "team_dissolved": ("团队撤销", "team dissolved"),
    "other": ("其他", "other"),
}
PAYERS = {"medical_insurance": ("医保基金", "medical insurance"), "public_health": ("公卫经费", "public-health funds"),
          "personal": ("个人自付", "personal")}


@cache
def _load(name: str) -> Any:
    with resources.files(DATA_PACKAGE).joinpath(name).open("r", encoding="utf-8") as fh:
        return json.load(fh)


# ---------------------------------------------------------------- package catalogue

@dataclass(frozen=True)
class Package:
    code: str
    kind: str  # basic | personalised
    name_zh: str
    name_en: str
    price: float  # yuan per person per year
    payers: Mapping[str, float]
    for_populations: tuple[str, ...]
    services: Mapping[str, int]  # service type → times per year

    @property
    def personal(self) -> float:
        return float(self.payers.get("personal", 0))


@dataclass(frozen=True)
class ServiceType:
    code: str
    name_zh: str
    name_en: str
    encounter_kinds: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Catalogue:
    version: str
    effective_from: date
    effective_to: date | None
    status: str
    source: str
    params: Mapping[str, int]
    packages: Mapping[str, Package]
    service_types: Mapping[str, ServiceType]

    def package(self, code: str) -> Package | None:
        return self.packages.get(code)


@cache
def catalogue_versions() -> tuple[Catalogue, ...]:
    doc = _load("packages.json")
    types = MappingProxyType({code: ServiceType(code, t["name_zh"], t["name_en"], tuple(t["encounter_kinds"]))
                              for code, t in doc["service_types"].items()})
    out = []
    for raw, eff_from, eff_to in dated_versions(doc["versions"]):
        packages = {}
        for p in raw["packages"]:
            unknown = set(p["services"]) - set(types)
            if unknown:
                raise ValueError(f"package {p['code']} promises unknown service types {sorted(unknown)}")
            if abs(sum(p["payers"].values()) - p["price"]) > 0.001:
                raise ValueError(f"package {p['code']}: payers {p['payers']} do not add up to the price {p['price']}")
            packages[p["code"]] = Package(p["code"], p["kind"], p["name_zh"], p["name_en"], float(p["price"]),
                                          MappingProxyType(dict(p["payers"])), tuple(p.get("for_populations", ())),
                                          MappingProxyType(dict(p["services"])))
        out.append(Catalogue(raw["version"], eff_from, eff_to, raw.get("status", "local"),
                             raw.get("source", ""), MappingProxyType(dict(raw["params"])),
                             MappingProxyType(packages), types))
    return tuple(out)


def catalogue_on(on: date) -> Catalogue:
    """The catalogue version in force on ``on`` (the earliest one for dates before any version)."""
    versions = catalogue_versions()
    for cat in reversed(versions):
        if cat.effective_from <= on and (cat.effective_to is None or on <= cat.effective_to):
            return cat
    return versions[0]


def catalogue_version(version: str) -> Catalogue:
    for cat in catalogue_versions():
        if cat.version == version:
            return cat
    raise LookupError(f"no package catalogue version {version!r}")


def promised_services(cat: Catalogue, package_codes: Iterable[str]) -> dict[str, int]:
    """Times per year promised by a set of packages: per service type the largest promise, not the sum
    (one annual examination fulfils the examination promise of every package that makes it)."""
    out: dict[str, int] = {}
    for code in package_codes:
        for service, n in cat.packages[code].services.items():
            out[service] = max(out.get(service, 0), n)
    return out


# ---------------------------------------------------------------- key populations

@dataclass(frozen=True)
class ConditionFact:
    code: str  # ICD-10, e.g. "I10" or "E11.9"
    on: date | None  # onset, else recorded date
    clinical_status: str | None = None
    verification_status: str | None = None


@dataclass(frozen=True)
class ResidentFacts:
    birth_date: date
    sex: str = "9"
    status: str = "alive"
    disability: str | None = None
    poverty_registered: bool = False
    fp_special_family: bool = False
    conditions: tuple[ConditionFact, ...] = ()


@dataclass(frozen=True)
class Membership:
    population: str
    since: date | None
    reason_zh: str
    reason_en: str


POPULATION_ORDER = ("elderly65", "hypertension", "diabetes", "smi", "tb", "pregnant", "child0_6", "disabled",
                    "poor", "fp_special")
INACTIVE_CLINICAL = frozenset({"inactive", "remission", "resolved"})
NOT_VERIFIED = frozenset({"refuted", "entered-in-error"})


@cache
def population_rules() -> Mapping[str, Mapping[str, Any]]:
    doc = _load("key_populations.json")
    missing = set(POPULATION_ORDER) ^ set(doc["populations"])
    if missing:
        raise ValueError(f"key_populations.json and the code disagree on {sorted(missing)}")
    return MappingProxyType(doc["populations"])


def population_label(code: str, lang: str = "zh") -> str:
    p = population_rules().get(code)
    return (p["name_zh"] if lang == "zh" else p["name_en"]) if p else code


def icd_in(code: str, ranges: Sequence[Sequence[str]]) -> bool:
    """``code``'s three-character category lies in one of the inclusive ``ranges`` (e.g. I10–I15)."""
    cat = code.strip().upper().replace(".", "")[:3]
    return any(lo <= cat <= hi for lo, hi in ranges)


def _counts(c: ConditionFact) -> bool:
    return (c.clinical_status or "active") not in INACTIVE_CLINICAL and c.verification_status not in NOT_VERIFIED


def _first(conditions: Iterable[ConditionFact]) -> ConditionFact | None:
    dated = sorted((c for c in conditions), key=lambda c: (c.on is None, c.on or date.max, c.code))
    return dated[0] if dated else None


def _diagnosis_reason(c: ConditionFact) -> tuple[str, str]:
    if c.on:
        return f"{c.code} 诊断于 {c.on.isoformat()}", f"{c.code} diagnosed on {c.on.isoformat()}"
    return f"{c.code} 诊断（日期不详）", f"{c.code} diagnosed (date unknown)"


def classify(facts: ResidentFacts, on: date) -> list[Membership]:
    """The key populations a resident belongs to on ``on``, each with its reason. Deceased or moved-out
    residents belong to none (they are no longer served)."""
    if facts.status != "alive":
        return []
    rules = population_rules()
    age = age_on(facts.birth_date, on)
    out: list[Membership] = []
    conditions = [c for c in facts.conditions if _counts(c) and (c.on is None or c.on <= on)]
    for code in POPULATION_ORDER:
        rule = rules[code]
        if code == "elderly65" and age >= rule["min_age"]:
            since = add_months(facts.birth_date, 12 * rule["min_age"])
            out.append(Membership(code, since, f"年龄 {age}", f"aged {age}"))
        elif code == "child0_6" and 0 <= age <= rule["max_age"]:
            out.append(Membership(code, facts.birth_date, f"年龄 {age}（{facts.birth_date.isoformat()} 出生）",
                                  f"aged {age} (born {facts.birth_date.isoformat()})"))
        elif code == "disabled" and facts.disability:
            out.append(Membership(code, None, f"残疾类别 {facts.disability}", f"disability category {facts.disability}"))
        elif code == "poor" and facts.poverty_registered:
            out.append(Membership(code, None, "建档立卡贫困人口", "registered as poor"))
        elif code == "fp_special" and facts.fp_special_family:
            out.append(Membership(code, None, "计生特殊家庭", "family-planning special family"))
        elif code == "pregnant":
            m = _pregnancy(facts, conditions, rule, on)
            if m:
                out.append(m)
        elif rule["source"] == "condition" and code != "pregnant":
            first = _first(c for c in conditions if icd_in(c.code, rule["icd10"]))
            if first:
                zh, en = _diagnosis_reason(first)
                out.append(Membership(code, first.on, zh, en))
    return out


def _pregnancy(facts: ResidentFacts, conditions: list[ConditionFact], rule: Mapping, on: date) -> Membership | None:
    if facts.sex != "2":
        return None
    deliveries = [c for c in conditions if c.on and icd_in(c.code, rule["delivery_icd10"])]
    last_delivery = max((c.on for c in deliveries), default=None)
    if last_delivery and (on - last_delivery).days <= rule["postpartum_days"]:
        return Membership("pregnant", last_delivery, f"产后{(on - last_delivery).days}天（{last_delivery.isoformat()} 分娩）",
                          f"{(on - last_delivery).days} days after delivery on {last_delivery.isoformat()}")
    pregnant = [c for c in conditions if c.on and icd_in(c.code, rule["icd10"])
                and not icd_in(c.code, rule["delivery_icd10"])
                and (on - c.on).days <= rule["pregnancy_days"] and (last_delivery is None or c.on > last_delivery)]
    first = _first(pregnant)
    if first:
        return Membership("pregnant", first.on, f"妊娠 {first.code} 记录于 {first.on.isoformat()}",
                          f"pregnancy {first.code} recorded on {first.on.isoformat()}")
    return None


# ---------------------------------------------------------------- contract dates

@dataclass(frozen=True)
class Term:
    start: date
    end: date


def default_end(start: date, months: int) -> date:
    """One contract year: the day before the same date ``months`` later (2026-03-01 → 2027-02-28)."""
    return add_months(start, months) - timedelta(days=1)


def check_term(start: date | None, end: date | None, *, today: date, params: Mapping[str, int],
               consent_date: date | None) -> tuple[Term | None, list[FieldError]]:
    errors: list[FieldError] = []
    start = start or today
    end = end or default_end(start, params["contract_months"])
    back, ahead = params["max_backdate_days"], params["max_advance_days"]
    if start < today - timedelta(days=back):
        errors.append(FieldError("start_date", "start_date.too_early",
                                 f"开始日期{start.isoformat()}早于今天超过{back}天，不能补签",
                                 f"start date {start.isoformat()} is more than {back} days in the past"))
    if start > today + timedelta(days=ahead):
        errors.append(FieldError("start_date", "start_date.too_late",
                                 f"开始日期{start.isoformat()}晚于今天超过{ahead}天",
                                 f"start date {start.isoformat()} is more than {ahead} days ahead"))
    days = (end - start).days + 1
    if end < start:
        errors.append(FieldError("end_date", "end_date.before_start",
                                 f"结束日期{end.isoformat()}早于开始日期{start.isoformat()}",
                                 f"end date {end.isoformat()} is before the start date {start.isoformat()}"))
    elif not params["min_contract_days"] <= days <= params["max_contract_days"]:
        errors.append(FieldError("end_date", "end_date.length",
                                 f"签约期{days}天，应在{params['min_contract_days']}–{params['max_contract_days']}天之间"
                                 "（通常为一年）",
                                 f"a contract of {days} days; it must last {params['min_contract_days']}–"
                                 f"{params['max_contract_days']} days (normally one year)"))
    if consent_date is not None:
        if consent_date > today:
            errors.append(FieldError("consent_date", "consent_date.future",
                                     f"知情同意日期{consent_date.isoformat()}晚于今天",
                                     f"consent date {consent_date.isoformat()} is in the future"))
        elif consent_date > start:
            errors.append(FieldError("consent_date", "consent_date.after_start",
                                     f"知情同意日期{consent_date.isoformat()}晚于开始日期{start.isoformat()}",
                                     f"consent date {consent_date.isoformat()} is after the start date "
                                     f"{start.isoformat()}"))
    return (None if errors else Term(start, end)), errors


def check_consent(method: str | None, witness: str | None) -> list[FieldError]:
    if method not in CONSENT_METHODS:
        return [FieldError("consent_method", "consent_method.unknown", "请选择知情同意方式（书面签字、电子签名或口头同意并有见证人）",
                           f"consent method must be one of {', '.join(CONSENT_METHODS)}")]
    if method == "verbal_witnessed" and not (witness or "").strip():
        return [FieldError("consent_witness", "consent_witness.required", "口头同意须填写见证人",
                           "verbal consent needs a witness")]
    return []


def check_packages(cat: Catalogue, codes: Sequence[str], populations: set[str]) -> list[FieldError]:
    """Exactly one basic package; personalised ones only for residents in their key populations."""
    errors: list[FieldError] = []
    if not codes:
        return [FieldError("packages", "packages.required", "请至少选择一个服务包", "choose at least one package")]
    if len(set(codes)) != len(codes):
        errors.append(FieldError("packages", "packages.duplicate", "服务包重复", "a package is listed twice"))
    for code in codes:
        p = cat.package(code)
        if p is None:
            errors.append(FieldError("packages", "package.unknown", f"服务包“{code}”不存在（目录版本{cat.version}）",
                                     f"package {code!r} does not exist in catalogue {cat.version}"))
        elif p.for_populations and not populations & set(p.for_populations):
            need = "、".join(population_label(x) for x in p.for_populations)
            errors.append(FieldError("packages", "package.not_eligible",
                                     f"{p.name_zh}仅面向{need}，该居民不属于此类重点人群",
                                     f"{p.name_en} is for {', '.join(population_label(x, 'en') for x in p.for_populations)}"
                                     "; the resident is not in that key population"))
    basics = [c for c in codes if (p := cat.package(c)) is not None and p.kind == "basic"]
    if not errors and len(basics) != 1:
        errors.append(FieldError("packages", "packages.basic", "须且只能选择一个基础包",
                                 "a contract has exactly one basic package"))
    return errors


def in_force(start: date, end: date, ended_on: date | None, on: date) -> bool:
    return start <= on <= (ended_on if ended_on is not None else end)


def status_on(status: str, end: date, on: date) -> str:
    """As-of status: an active contract past its end date is expired even before the expiry job ran."""
    return "expired" if status == "active" and end < on else status


# ---------------------------------------------------------------- fulfilment (履约)

@dataclass(frozen=True)
class ServiceFulfilment:
    service: str
    promised: int  # over the whole contract
    expected: int  # due by the as-of date (grace included)
    delivered: int
    overdue: int


@dataclass(frozen=True)
class Fulfilment:
    services: tuple[ServiceFulfilment, ...]
    promised: int
    delivered: int  # capped per service at what was promised
    expected: int
    rate: float | None  # delivered / promised
    signed_not_served: bool  # 签而不约: something overdue and nothing at all recorded
    overdue: tuple[str, ...] = field(default=())


@cache
def promised_over(per_year: int, start: date, end: date) -> int:
    """Promises are per year; a contract of another length promises pro rata (at least one)."""
    days = (end - start).days + 1
    return max(1, round(per_year * days / 365.25)) if per_year else 0


@cache
def due_dates(n: int, start: date, end: date) -> tuple[date, ...]:
    """The k-th of ``n`` promised services is due at the end of the k-th equal part of the contract period
    (four follow-ups in a year: end of each quarter; one annual exam: the last day)."""
    days = (end - start).days + 1
    return tuple(start + timedelta(days=round(days * k / n) - 1) for k in range(1, n + 1))


def fulfilment(promised_per_year: Mapping[str, int], delivered: Mapping[str, int], start: date, end: date,
               on: date, *, grace_days: int) -> Fulfilment:
    """Promised vs. delivered as of ``on`` (services counted from ``start`` to ``min(on, end)``).

    A service is overdue when more were due by ``on - grace_days`` than were delivered. A contract is
    signed but not served (签而不约) when some service is overdue and nothing promised was delivered."""
    rows = []
    cutoff = on - timedelta(days=grace_days)
    for service in sorted(promised_per_year):
        n = promised_over(promised_per_year[service], start, end)
        if n == 0:
            continue
        expected = sum(1 for d in due_dates(n, start, end) if d <= cutoff)
        got = delivered.get(service, 0)
        rows.append(ServiceFulfilment(service, n, expected, got, max(0, expected - got)))
    promised = sum(r.promised for r in rows)
    done = sum(min(r.delivered, r.promised) for r in rows)
    overdue = tuple(r.service for r in rows if r.overdue)
    return Fulfilment(tuple(rows), promised, done, sum(r.expected for r in rows),
                      round(done / promised, 4) if promised else None, bool(overdue) and done == 0, overdue)
