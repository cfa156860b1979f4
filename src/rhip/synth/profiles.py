"""Generator profiles: the size and shape of a synthetic county. Every number here is a setting."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Faults:
    """Realistic faults for identity work (shares of registrations)."""

    missing_id_child: float = 0.25     # children 0–6 registered without an ID number
    missing_id_elderly: float = 0.04   # 80+ without one
    missing_id_other: float = 0.005
    legacy15: float = 0.02             # people born before 1985 registered with their old 15-digit number
    duplicate: float = 0.01            # a second registration of the same person, with typos


@dataclass(frozen=True)
class Profile:
    name: str
    county_code: str = "411530"          # plausible GB/T 2260 code in Henan (41), prefecture 15
    county_name: str = "青岚县"
    townships: int = 12
    villages: int = 200                  # villages + town-seat communities
    usual_residents: int = 280_000       # 常住人口: alive, living in the county
    as_of_year: int = 2026
    away_share: float = 0.16             # registered here, living elsewhere (外出务工) — working-age adults
    moved_out_share: float = 0.008       # hukou moved out (迁出) in the last years
    incomer_share: float = 0.02          # usual residents without local hukou
    death_window_years: int = 5          # deceased people kept with dates of death in this window
    poverty_household_share: float = 0.05
    fp_special_household_share: float = 0.003
    faults: Faults = field(default_factory=Faults)

    def with_residents(self, n: int | None) -> "Profile":
        if not n:
            return self
        ratio = n / self.usual_residents
        villages = max(4, min(self.villages, round(self.villages * ratio ** 0.5))) if ratio < 1 else self.villages
        townships = max(2, min(self.townships, round(villages / 16)))
        return replace(self, usual_residents=n, villages=villages, townships=townships)


PROFILES = {
    "demo": Profile(name="demo"),
    # A county small enough for tests and the clean-clone check.
    "tiny": Profile(name="tiny", townships=2, villages=6, usual_residents=1_200),
}


def get_profile(name: str, residents: int | None = None) -> Profile:
    if name not in PROFILES:
        raise KeyError(f"unknown profile {name!r}; available: {', '.join(PROFILES)}")
    return PROFILES[name].with_residents(residents)
