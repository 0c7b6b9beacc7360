"""When months run on their own: the month that just closed, then take-up revisions for the months before."""
