"""The plan of a synthetic county: township and village codes and names. Pure (no database)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from rhip.synth.places import community_names, township_names, village_names
from rhip.synth.profiles import Profile


@dataclass
class Village:
    code: str
    name: str
    township_index: int
    kind: str  # village | community
    weight: float  # relative population
    clinic_org_id: int | None = None


@dataclass
class CountyLayout:
    county_code12: str
    townships: list[tuple[str, str, str]] = field(default_factory=list)  # (code, name, kind)
    villages: list[Village] = field(default_factory=list)


def plan_layout(profile: Profile, rng: random.Random) -> CountyLayout:
    """Codes and names of the county's townships and villages (pure; used by every stage)."""
    c6 = profile.county_code
    layout = CountyLayout(county_code12=c6 + "000000")
    names = township_names(rng, profile.townships)
    town_no, township_no = 100, 200
    for name, kind in names:
        if kind == "town":
            town_no += 1
            code = f"{c6}{town_no:03d}000"
        else:
            township_no += 1
            code = f"{c6}{township_no:03d}000"
        layout.townships.append((code, name, kind))
    # Villages: the town seat (first township, 城关镇) also has residents' committees; sizes vary.
    n_t = len(layout.townships)
    per = [max(2, profile.villages // n_t)] * n_t
    for i in range(profile.villages - sum(per)):
        per[i % n_t] += 1
    used: set[str] = set()
    for ti, (tcode, _tname, _kind) in enumerate(layout.townships):
        n = per[ti]
        n_comm = min(max(1, n // 4), 6) if ti == 0 else 0
        for j, cname in enumerate(community_names(rng, n_comm, used)):
            layout.villages.append(Village(f"{tcode[:9]}{j + 1:03d}", cname, ti, "community", rng.uniform(1.4, 2.4)))
        for j, vname in enumerate(village_names(rng, n - n_comm, used=used)):
            layout.villages.append(Village(f"{tcode[:9]}{200 + j + 1:03d}", vname, ti, "village",
                                           rng.lognormvariate(0, 0.35)))
    return layout
