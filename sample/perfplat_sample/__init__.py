"""perfplat's embedded sample: synthetic sources of every service that need no credentials and no servers.

A distribution of its own (`sample/` in the checkout), so that a deployment of perfplat carries none of it.
perfplat imports `perfplat_sample.resources` (`common.settings.sample_stand_ins`) only when a source's
setting is unset; with
every source configured, no module of this package is loaded. The same pieces are the test suite's fixtures:
- `sample_data`: deterministic synthetic feedback, Sirius cases, GA4 sessions, health checks and digideps'
  satisfaction responses, by month;
- `seed`: SQLite copies of the Make an LPA database, of Sirius and of digideps' `satisfaction`, seeded on
  first use;
- `feedback_exports`: Use an LPA's GOV.UK Feedback Explorer exports, written once a month has ended;
- `ga4_emulator`: a loopback HTTP (and gRPC) server speaking the GA4 Data API's `runReport`;
- `sample_export` and `bigquery_emulator`: the sample's GA4 BigQuery export, served on loopback;
- `resources`: the stand-in for each kind of source (`STAND_INS`), which says it serves the sample;
- `demo` (`perfplat-demo`) and `local_stack` (`perfplat-localstack`, with the `local` extra: moto).
"""
