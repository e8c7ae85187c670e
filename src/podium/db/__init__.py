"""Persistence: engines and connections, column types, the schema and its migrations."""
