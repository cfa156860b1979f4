"""The shared health record (电子健康档案) and medical-record summaries: encounters, conditions, observations.

Every record belongs to a resident, names the organization (and practitioner) responsible, and remembers
its source (system + local id) so that re-sending the same record updates it instead of duplicating it.
"""
