"""The completion rate's resources: a module per source it reads through a client of its own (GA4's BigQuery
export, GA4's Data API), and the thresholds of its cross-check."""
