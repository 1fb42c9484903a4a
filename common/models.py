"""The one table of the shared parts: the recent hits of each rate limit
(recsite.access.limits)."""

from django.db import models


class RecentHits(models.Model):
    """The times (Unix seconds, newest first) of one limit's hits within its period, for one
    key: the scope and whom it counts. Locked while a request takes a hit."""

    key = models.CharField(max_length=200, primary_key=True)
    hits = models.JSONField(default=list)
    # When the newest hit ages out: a row past it counts nothing and may be deleted.
    expires = models.FloatField(default=0, db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {len(self.hits)} recent hits"
