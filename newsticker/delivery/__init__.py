"""Sending issues: delivery records, the SMTP pool, the rate budget, progress and reports."""
