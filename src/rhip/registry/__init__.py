"""Registry: divisions, organizations, practitioners, family-doctor teams, households, residents."""
