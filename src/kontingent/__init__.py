"""Kontingent: vaccination appointment booking that stays correct and fair under a rush."""

__version__ = "0.1.0"
