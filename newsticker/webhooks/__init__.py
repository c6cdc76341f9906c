"""Admin pages of webhooks: register receivers, read their delivery log, send a test event."""
