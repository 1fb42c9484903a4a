"""The forms of the /try/ page (recommender.pages): the session password, who the person
is, and one answer at a time."""

from django import forms

from coldstart.domain import GENDERS, MAX_AGE, MAX_SCORE, MIN_AGE, MIN_SCORE, OCCUPATIONS
from recommender.serializers import MAX_MOVIE_ID

# What the page's buttons mean as API answers: "liked it" is the top rating; "didn't like
# it" a 2, a low score that is not the very worst a person can give.
LIKED, DISLIKED = 5, 2
CHOICES = {
    "liked": {"rating": LIKED},
    "disliked": {"rating": DISLIKED},
    "seen": {"seen": True},
    "unseen": {"seen": False},
    **{str(score): {"rating": score} for score in range(MIN_SCORE, MAX_SCORE + 1)},
}


class PasswordForm(forms.Form):
    session_password = forms.CharField(
        label="Session password", max_length=1024, strip=False, widget=forms.PasswordInput
    )


class ProfileForm(forms.Form):
    age = forms.IntegerField(min_value=MIN_AGE, max_value=MAX_AGE)
    gender = forms.ChoiceField(choices=GENDERS)
    occupation = forms.ChoiceField(choices=[(name, name) for name in OCCUPATIONS])


class AnswerForm(forms.Form):
    """One button pressed about one movie."""

    movie_id = forms.IntegerField(min_value=1, max_value=MAX_MOVIE_ID, widget=forms.HiddenInput)
    answer = forms.ChoiceField(choices=[(key, key) for key in CHOICES])

    def as_api_answer(self) -> dict:
        """The answer as /api/recommend takes it: {"movie_id", "rating"} or {..., "seen"}."""
        return {"movie_id": self.cleaned_data["movie_id"], **CHOICES[self.cleaned_data["answer"]]}
