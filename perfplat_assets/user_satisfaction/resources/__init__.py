"""User satisfaction's resources: a module per source it reads through a resource of its own, and
the thresholds of its warning checks."""
