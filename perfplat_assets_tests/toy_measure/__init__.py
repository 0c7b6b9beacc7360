"""A fifth measure that lives in the tests alone, declared as a real one is: the proof that a measure is
declared once (test_adding_a_measure.py). Importing it registers its table on the metrics store's
metadata, so only the subprocess that registers the measure imports it."""
