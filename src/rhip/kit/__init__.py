"""Shared plumbing: database, errors, pagination, periods, GB 11643 / GB 2260 helpers."""
