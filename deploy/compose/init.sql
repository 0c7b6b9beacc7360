-- The Dagster instance uses the database POSTGRES_DB; perfplat's metrics store gets its own.
CREATE DATABASE perfplat_metrics;
