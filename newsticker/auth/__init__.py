"""Editors and admins: accounts, passwords, login."""
