"""Helpers shared by every domain. `months`, `rounding`, `sql`, `database` and `errors` are plain Python;
`sql_source` (the source-database resource base) and `metadata` are the Dagster-facing ones."""
