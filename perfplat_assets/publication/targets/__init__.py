"""The targets a publication is applied to, one module each: the local directory, the S3 drop OPG's
automation reads, data.gov.uk's CKAN; and the publisher, which lists the enabled ones in the order a
publication applies them. Each has the shape `committing/target.py` gives; adding a target is a module
here and a line in the publisher, with nothing to change in how a publication is committed."""
