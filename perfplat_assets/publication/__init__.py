"""Publication: the month's records in OPG's published format, and the files data.gov.uk links to."""
