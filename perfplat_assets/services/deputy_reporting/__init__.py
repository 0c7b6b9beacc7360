"""Complete the deputy report: its user satisfaction, from the digideps service's database."""
