"""Normative ratings: blinded rating forms, and the analysis that turns filled forms into per-item norms."""
