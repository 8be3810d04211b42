"""Fuzzing of every input: the REST API (schemathesis), the rules, socket payloads, PDF intake."""
