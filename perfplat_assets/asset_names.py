"""The name of every perfplat asset that is not a measure (each measure's is declared with it, in
`<measure>/measure.py`): schedules, the sensor, the queue CLI, the metrics store's tables and the tests
refer to them by these, never by a copied string."""

PERFORMANCE_DATASET = "performance_dataset"
DATA_GOV_UK_PUBLICATION = "data_gov_uk_publication"
