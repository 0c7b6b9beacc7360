"""The published format: what perfplat publishes, whatever it is published to. OPG's record format and its
rules, the performance dataset's values and their table in the store, the revisions and the notes, and every
file built from them (`data.json`, the month files, the CSV and its CSVW metadata, `report.html`). Pure, no
Dagster and no I/O, so the same records always give the same bytes; nothing here knows where the files go."""
