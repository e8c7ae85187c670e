"""Tokens, password hashing, principals and permissions."""
