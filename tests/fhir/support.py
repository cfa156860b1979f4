"""Shared helpers for the FHIR tests."""

from __future__ import annotations

from tests.factories import auth

FHIR = "application/fhir+json"


def fh(county, key: str = "admin", **extra) -> dict:
    """Headers of a FHIR JSON request as the county's user ``key``."""
    return {**auth(county, key), "Accept": FHIR, "Content-Type": FHIR, **extra}
