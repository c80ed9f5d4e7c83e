"""Test configuration: real-service fixtures are loaded as plugins."""

pytest_plugins = ["tests.fixtures.docker", "tests.fixtures.postgres", "tests.fixtures.kafka"]
