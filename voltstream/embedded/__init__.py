"""Embedded services for running voltstream with no infrastructure: Kafka and PostgreSQL."""
