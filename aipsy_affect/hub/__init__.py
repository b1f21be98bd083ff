"""Hugging Face Hub: the deterministic export, the dataset card, and publishing."""
