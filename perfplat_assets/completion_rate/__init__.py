"""Completion rate: sessions that got an LPA created, over sessions that started one, from GA4."""
