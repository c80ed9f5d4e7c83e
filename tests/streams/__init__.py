"""Tests of the stream processor (pure parts and the Kafka/PostgreSQL pipeline)."""
