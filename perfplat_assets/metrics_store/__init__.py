"""perfplat's own history: every month's results in SQL, kept after the sources have forgotten them."""
