"""Plain helpers shared by every domain: calendar months and rounding. No Dagster here."""
