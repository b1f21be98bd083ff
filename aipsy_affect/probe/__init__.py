"""The reference probing baseline: hidden-state extraction, the activation cache, pair-grouped probes and submissions."""
