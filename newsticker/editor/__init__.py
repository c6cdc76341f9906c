"""The editor area: dashboard and the mail catcher's outbox."""
