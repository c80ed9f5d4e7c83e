"""Tests of the schemas package and the fast decoder."""
