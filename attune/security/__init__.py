"""Passwords, tokens and encryption of secrets."""
