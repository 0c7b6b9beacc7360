"""Publication: the month's records in OPG's published format, and the files data.gov.uk links to.

The parts, each depending only on those listed before it:

- `published_format/`: what is published. OPG's record format and its checks, the dataset's values, the
  revisions, the notes and every file (`data.json`, the month files, the CSV and its CSVW, `report.html`).
  Pure.
- `committing/`: how a publication is made whole. The plan (pure), the journal in the metrics store, and
  `publish`, which applies a plan to every target or to none. It knows a target only by its shape
  (`committing/target.py`).
- `targets/`: where a publication goes. The local directory, S3, CKAN, and the publisher that orders them.
- `history/`: OPG's series from before perfplat, read from a published `data.json` and imported into the
  store, for the next publication to write out.
- The Dagster side, at the top: `assets.py` (`performance_dataset` and `data_gov_uk_publication`),
  `deadline.py` (by when a month must be published; pure) and `freshness.py` (the check and the sensor
  that hold the publication to it). `history/jobs.py` is the import's job.
"""
