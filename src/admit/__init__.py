"""Admit: ticketing, admission and access control."""
