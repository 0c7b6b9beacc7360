"""Quality gates: the rules a month must pass before it is published, and the record of revisions."""
