"""Digital take-up: applications made with Make an LPA as a share of all LPA applications received."""
