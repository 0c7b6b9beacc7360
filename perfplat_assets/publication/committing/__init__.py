"""Committing a publication: the plan of everything one publication writes, built whole from one snapshot
of the metrics store; the journal in the store that makes the store's commit the point of no return; and
`publish`, which applies the plan to every target or to none, and completes a publication cut short. It
knows each target only by the shape in `target.py`, so a new target changes nothing here. No Dagster."""
