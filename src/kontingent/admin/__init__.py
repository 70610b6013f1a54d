"""The admin console: campaign settings, releases, the dashboard and statistics."""
