from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class MoviesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "movies"

    def ready(self):
        """Staff's edits of movies and genres (the admin) change the catalogue's stamp, as
        movies_load and movie_ratings_summarise do themselves (bulk writes send no signals)."""
        from movies.models import Genre, Movie

        for model in (Movie, Genre):
            post_save.connect(_changed, sender=model, dispatch_uid=f"stamp-save-{model.__name__}")
            post_delete.connect(
                _changed, sender=model, dispatch_uid=f"stamp-delete-{model.__name__}"
            )
        m2m_changed.connect(_changed, sender=Movie.genres.through, dispatch_uid="stamp-genres")


def _changed(sender, **kwargs):
    from movies.services import catalogue_changed

    if kwargs.get("action", "post_").startswith("post_"):  # m2m_changed: once, after
        catalogue_changed()
