"""Uptime: the share of the month the service's Route 53 health check found it healthy."""
