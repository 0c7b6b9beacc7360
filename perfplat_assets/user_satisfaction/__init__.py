"""User satisfaction: the feedback form's ratings, counted per month in the Make an LPA database."""
