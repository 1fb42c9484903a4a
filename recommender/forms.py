"""The forms of the /try/ page (recommender.pages): the session password, who the person
is, a round of answers, a film marked from a search, and the search itself, read into
coldstart's Profile and Answer."""

from collections.abc import Collection, Container

from django import forms

from coldstart.domain import GENDERS, MAX_AGE, MAX_SCORE, MIN_AGE, MIN_SCORE, OCCUPATIONS
from coldstart.serving import Answer, Profile
from movies.models import MAX_MOVIE_ID
from recommender.serving import MAX_ANSWERS

# What the page's choices mean, as (rating, seen): "loved it" is the top rating, "liked
# it" the lowest rating that counts as liking (ratings >= 4 are the positives); "didn't
# like it" a 2, a low score that is not the very worst a person can give.
LOVED, LIKED, DISLIKED = 5, 4, 2
CHOICES = {
    "loved": (LOVED, True),
    "liked": (LIKED, True),
    "disliked": (DISLIKED, True),
    "seen": (None, True),
    "unseen": (None, False),
    **{str(score): (score, True) for score in range(MIN_SCORE, MAX_SCORE + 1)},
}


class PasswordForm(forms.Form):
    session_password = forms.CharField(
        label="Session password", max_length=1024, strip=False, widget=forms.PasswordInput
    )


class ProfileForm(forms.Form):
    age = forms.IntegerField(min_value=MIN_AGE, max_value=MAX_AGE)
    gender = forms.ChoiceField(choices=GENDERS)
    occupation = forms.ChoiceField(choices=[(name, name) for name in OCCUPATIONS])

    def profile(self) -> Profile:
        return Profile(**self.cleaned_data)


# The labels of a round's choices, and of a film found by a search (seen, by then).
ROUND_CHOICES = [
    ("loved", "Loved it"),
    ("liked", "Liked it"),
    ("disliked", "Didn't like it"),
    ("seen", "Seen it"),
    ("unseen", "Haven't seen it"),
]
MARK_CHOICES = ROUND_CHOICES[:3]
MAX_QUERY_LENGTH = 200


class AnswerForm(forms.Form):
    """One answer about one movie: a movie of the served catalogue, not answered before,
    within the answers a request may carry."""

    movie_id = forms.IntegerField(min_value=1, max_value=MAX_MOVIE_ID, widget=forms.HiddenInput)
    answer = forms.ChoiceField(choices=[(key, key) for key in CHOICES])

    def __init__(self, data, *, answered: Collection[int], catalogue: Container[int], choices=None):
        super().__init__(data)
        self.answered, self.catalogue = answered, catalogue
        if choices is not None:  # fewer than every answer: a film marked from a search
            self.fields["answer"].choices = choices

    def clean(self):
        movie_id = self.cleaned_data.get("movie_id")
        if movie_id is None:
            return self.cleaned_data
        if len(self.answered) >= MAX_ANSWERS:
            raise forms.ValidationError(f"At most {MAX_ANSWERS} answers are taken.")
        if movie_id in self.answered:
            raise forms.ValidationError(f"movie {movie_id} is answered twice.")
        if movie_id not in self.catalogue:
            raise forms.ValidationError(f"movie {movie_id} is not in the catalogue.")
        return self.cleaned_data

    def as_answer(self) -> Answer:
        rating, seen = CHOICES[self.cleaned_data["answer"]]
        return Answer(self.cleaned_data["movie_id"], rating, seen)


def round_answers(data, *, answered: Collection[int], catalogue: Container[int]):
    """A round's answers (each asked movie's ``movie_id``, its choice in
    ``answer_<movie_id>``), each checked as AnswerForm checks one: (answers, errors)."""
    answers: list[Answer] = []
    errors: list[str] = []
    movie_ids = data.getlist("movie_id")
    if not movie_ids:
        errors.append("No answers were sent.")
    for movie_id in movie_ids[: MAX_ANSWERS + 1]:
        taken = {*answered, *(answer.movie_id for answer in answers)}
        form = AnswerForm(
            {"movie_id": movie_id, "answer": data.get(f"answer_{movie_id}", "")},
            answered=taken,
            catalogue=catalogue,
        )
        if form.is_valid():
            answers.append(form.as_answer())
        else:
            errors += [f"{movie_id}: {error}" for error in form.errors.get("__all__", [])]
            errors += [
                f"{movie_id}: {name}: {error}"
                for name, field_errors in form.errors.items()
                if name != "__all__"
                for error in field_errors
            ]
    return answers, errors


class SearchForm(forms.Form):
    q = forms.CharField(label="Title", max_length=MAX_QUERY_LENGTH, required=False)
