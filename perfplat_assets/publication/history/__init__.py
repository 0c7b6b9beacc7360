"""Taking over history: OPG's series published before perfplat (its sources keep two years) read from a
published `data.json`, checked whole, and imported into the metrics store as published history, journalled
so that the next publication writes it to every target; by `perfplat import-published` or the
`import_published_series` job."""
