"""The name of every perfplat asset, in one place: schedules, the sensor, the queue CLI, the metrics store's
tables and the tests refer to assets by these, never by a copied string."""

USER_SATISFACTION = "user_satisfaction"
DIGITAL_TAKE_UP = "digital_take_up"
COMPLETION_RATE = "completion_rate"
UPTIME = "uptime"
PERFORMANCE_DATASET = "performance_dataset"
DATA_GOV_UK_PUBLICATION = "data_gov_uk_publication"

# The measures, in the order the dataset combines them; then everything a month's run materialises.
MEASURES = (USER_SATISFACTION, DIGITAL_TAKE_UP, COMPLETION_RATE, UPTIME)
PIPELINE = (*MEASURES, PERFORMANCE_DATASET, DATA_GOV_UK_PUBLICATION)
# The assets the metrics store keeps a table of, each declared beside its asset.
STORED = (*MEASURES, PERFORMANCE_DATASET)
