"""Checks that judge a sync's outcome: index contents, job records, secrets, refusals."""
