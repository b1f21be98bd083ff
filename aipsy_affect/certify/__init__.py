"""Certification: running every instrument over the battery, the criteria, the report model, statistics and figures."""
