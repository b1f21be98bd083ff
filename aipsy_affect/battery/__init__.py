"""The stimulus battery: item schema, readers and writers, sources (packaged, JSONL folder, export, Hub), and the release (the answer key)."""
