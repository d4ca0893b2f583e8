"""Accounts: users, roles, sign-in sessions and two-factor authentication."""
