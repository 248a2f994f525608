"""Energy reports: meters, consumption, the report, its files and its schedule."""
