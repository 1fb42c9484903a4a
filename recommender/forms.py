"""The forms of the /try/ page (recommender.pages): the session password, who the person
is, and one answer at a time, read into coldstart's Profile and Answer."""

from collections.abc import Collection, Container

from django import forms

from coldstart.domain import GENDERS, MAX_AGE, MAX_SCORE, MIN_AGE, MIN_SCORE, OCCUPATIONS
from coldstart.serving import Answer, Profile
from movies.models import MAX_MOVIE_ID
from recommender.serving import MAX_ANSWERS

# What the page's buttons mean, as (rating, seen): "liked it" is the top rating; "didn't
# like it" a 2, a low score that is not the very worst a person can give.
LIKED, DISLIKED = 5, 2
CHOICES = {
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


class AnswerForm(forms.Form):
    """One button pressed about one movie: a movie of the served catalogue, not answered
    before, within the answers a request may carry."""

    movie_id = forms.IntegerField(min_value=1, max_value=MAX_MOVIE_ID, widget=forms.HiddenInput)
    answer = forms.ChoiceField(choices=[(key, key) for key in CHOICES])

    def __init__(self, data, *, answered: Collection[int], catalogue: Container[int]):
        super().__init__(data)
        self.answered, self.catalogue = answered, catalogue

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
