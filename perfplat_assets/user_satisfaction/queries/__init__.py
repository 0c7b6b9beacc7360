"""How user satisfaction reads each of its sources: a module per source, named as its resource is."""
