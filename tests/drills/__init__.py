"""Fault drills: real servers, real clients, and a fault injected in the middle (docs/operations.md)."""
