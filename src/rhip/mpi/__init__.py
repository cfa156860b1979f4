"""Master patient index: matching on write, links and golden identity, review queue,
batch deduplication.  ``rules`` holds the pure comparison rules."""
