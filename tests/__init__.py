"""voltstream test suite."""
