"""Tests of the alert subscribers against a real Kafka protocol and real HTTP receivers."""
