"""User satisfaction: a service's ratings, counted per month in the kind of source the service declares."""
