"""Issues: composing, rendering, archiving the ticker and the newsletter."""
