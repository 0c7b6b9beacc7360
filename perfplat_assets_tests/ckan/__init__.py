"""A real CKAN 2.11.6 on loopback for perfplat's tests of publishing to data.gov.uk (which runs CKAN).

`location` and `install` use only the standard library, so the install step runs under any Python 3.11;
`fixture` (pytest, requests, sqlalchemy) is what the tests import.
"""
