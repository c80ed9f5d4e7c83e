"""Tests of the pure battery analytics package."""
