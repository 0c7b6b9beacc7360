"""The embedded default: synthetic Make an LPA sources that need no credentials and no servers.

Nothing here is production code. The same pieces are the test suite's fixtures:
- `sample_data`: deterministic synthetic feedback, Sirius cases and GA4 sessions, month by month;
- `seed`: SQLite copies of the Make an LPA database and of Sirius, seeded on first use;
- `ga4_emulator`: a loopback HTTP server speaking the GA4 Data API's `runReport`.
"""
