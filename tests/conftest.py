"""Shared pytest configuration: fixtures live in tests/support and are registered here."""

pytest_plugins = ["tests.support.db"]
