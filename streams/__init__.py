"""Streaming side of voltstream: Faust app, analytics, fast decoding and the database sink."""
