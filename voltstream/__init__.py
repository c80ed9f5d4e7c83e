"""voltstream: real-time EV battery health pipeline (Kafka -> Faust -> TimescaleDB, alerts)."""

__version__ = "0.1.0"
