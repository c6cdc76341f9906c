"""Public pages: start page, events and offers, archive, feeds."""
