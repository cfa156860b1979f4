"""Pure security rules: roles, what each may do, and how a scope covers a village."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES: dict[str, tuple[str, str]] = {
    "administrator": ("系统管理员", "administrator"),
    "commission_manager": ("卫健委管理人员", "commission manager"),
    "township_staff": ("乡镇卫生院人员", "township staff"),
    "village_doctor": ("村医", "village doctor"),
    "hospital_doctor": ("医院医生", "hospital doctor"),
    "cdc_staff": ("疾控人员", "CDC staff"),
    "supervision_staff": ("卫生监督人员", "supervision staff"),
    "resident": ("居民", "resident"),
}

# Permissions per role. Resident data is always further limited by the user's scope.
PERMISSIONS: dict[str, frozenset[str]] = {
    "administrator": frozenset({"resident.read", "resident.write", "registry.read", "registry.write",
                                "users.manage", "audit.read", "mpi.review", "program.read", "program.write"}),
    "commission_manager": frozenset({"resident.read", "registry.read", "audit.read", "program.read"}),
    "township_staff": frozenset({"resident.read", "resident.write", "registry.read", "mpi.review", "program.read",
                                 "program.write"}),
    "village_doctor": frozenset({"resident.read", "resident.write", "registry.read", "program.read", "program.write"}),
    "hospital_doctor": frozenset({"resident.read", "resident.write", "registry.read"}),
    "cdc_staff": frozenset({"resident.read", "registry.read", "program.read"}),
    "supervision_staff": frozenset({"registry.read"}),
    "resident": frozenset(),
}
# Family-doctor contracts (contracts/): read for those who steer or serve, write for those who sign.
CONTRACT_PERMISSIONS = {"administrator": {"contract.read", "contract.write"}, "commission_manager": {"contract.read"},
                        "township_staff": {"contract.read", "contract.write"},
                        "village_doctor": {"contract.read", "contract.write"}}
PERMISSIONS = {role: perms | CONTRACT_PERMISSIONS.get(role, set()) for role, perms in PERMISSIONS.items()}

# Navigation of the console, by permission: (path, zh, en, permission)
NAVIGATION = (
    ("/console/", "首页", "Home", None),
    ("/console/residents", "居民档案", "Residents", "resident.read"),
    ("/console/worklist", "随访工作清单", "Worklist", "program.read"),
    ("/console/mpi/reviews", "疑似重复档案", "Duplicate review", "mpi.review"),
    ("/console/organizations", "医疗卫生机构", "Organizations", "registry.read"),
    ("/console/teams", "家庭医生团队", "Family-doctor teams", "registry.read"),
    ("/console/contracts", "家庭医生签约", "Contracts", "contract.read"),
    ("/console/audit", "审计日志", "Audit trail", "audit.read"),
    ("/console/users", "用户管理", "Users", "users.manage"),
)

LOCK_AFTER_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10


def division_prefix(code: str) -> str:
    """The part of a 12-digit division code that identifies it: county 6, township 9, village 12 digits."""
    code = code.strip()
    if len(code) == 12 and code.isdigit():
        if code.endswith("000000"):
            return code[:6]
        if code.endswith("000"):
            return code[:9]
        return code
    if len(code) in (2, 4, 6, 9) and code.isdigit():
        return code
    raise ValueError(f"not a division code: {code!r}")


@dataclass(frozen=True, slots=True)
class Scope:
    """The org units a user serves, as division-code prefixes. ``everything`` only for administrators."""

    everything: bool = False
    prefixes: frozenset[str] = field(default_factory=frozenset)

    def covers(self, village_code: str | None) -> bool:
        if self.everything:
            return True
        if not village_code:
            return False
        return any(village_code.startswith(p) for p in self.prefixes)

    @property
    def empty(self) -> bool:
        return not self.everything and not self.prefixes

    def villages_and_prefixes(self) -> tuple[list[str], list[str]]:
        """Split into whole village codes (for IN) and shorter prefixes (for LIKE)."""
        villages = sorted(p for p in self.prefixes if len(p) == 12)
        prefixes = sorted(p for p in self.prefixes if len(p) < 12)
        return villages, prefixes


def password_problems(password: str, username: str) -> list[tuple[str, str]]:
    """(zh, en) reasons a password is too weak."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append((f"密码至少{MIN_PASSWORD_LENGTH}位", f"password must have at least {MIN_PASSWORD_LENGTH} characters"))
    if username and username.lower() in password.lower():
        problems.append(("密码不能包含用户名", "password must not contain the user name"))
    kinds = sum(bool(k) for k in (any(c.islower() for c in password), any(c.isupper() for c in password),
                                   any(c.isdigit() for c in password), any(not c.isalnum() for c in password)))
    if kinds < 3:
        problems.append(("密码须包含大写字母、小写字母、数字、符号中的至少三类",
                         "password must mix at least three of: lower case, upper case, digits, symbols"))
    return problems
