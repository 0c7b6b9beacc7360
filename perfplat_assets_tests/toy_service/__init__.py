"""A fourth service, declared in the test package alone, as docs/ADDING_A_SERVICE.md says a service is."""
