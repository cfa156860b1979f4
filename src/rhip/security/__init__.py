"""Users, roles, org-unit scope, sessions, API tokens and the append-only audit trail."""
