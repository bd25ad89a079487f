"""Model builders used by models/generate.py."""
