"""The admin console: running the campaign (releases, settings, dashboard)."""
