"""/try/: the service for a person with a browser, no JavaScript needed. Server-rendered
forms ask for the session password, then age, gender and occupation, then a round of
questions on one screen, and show the recommendations, with a way to answer more. Beside
them a search (movies.selectors' catalogue) finds films the person knows, to mark "loved
it", "liked it" or "didn't like it": answers like the interview's, never recommended.

The state lives in Django's session: the fingerprint of the session password it was
unlocked with (so that changing SESSION_PASSWORD locks every page again, as it retires
every token), the profile, and the answers. Plain Django forms read the input into
coldstart's Profile and Answer; no API serializer is involved. Each form posts to its own
URL and redirects back to /try/ (post/redirect/get); bad input re-renders the form with
its errors and status 400.
"""

import dataclasses
import functools
import hmac
import math
from urllib.parse import urlencode

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from rest_framework.exceptions import Throttled

from coldstart.serving import Answer, Profile
from movies.catalogue import Filters
from movies.selectors import catalogue
from recommender.forms import (
    DISLIKED,
    LIKED,
    LOVED,
    MARK_CHOICES,
    ROUND_CHOICES,
    AnswerForm,
    PasswordForm,
    ProfileForm,
    SearchForm,
    round_answers,
)
from recommender.serving import MAX_ANSWERS, ModelUnavailable, get_recommender
from recsite.access.login import session_password_accepted
from recsite.access.password import password_fingerprint

SESSION_KEY = "try"
QUESTIONS_PER_ROUND = 5
SHOWN = 10  # recommendations
FOUND = 10  # search results
SAID = {LOVED: "loved it", LIKED: "liked it", DISLIKED: "didn't like it"}


def _state(request) -> dict | None:
    """The page's state; None while locked: never unlocked, or unlocked with a session
    password that is no longer the current one (that state is dropped)."""
    state = request.session.get(SESSION_KEY)
    if state and hmac.compare_digest(state.get("password", ""), password_fingerprint()):
        return state
    request.session.pop(SESSION_KEY, None)
    return None


def _with_profile(view):
    """A step for a session that has given its profile (others go back to the page), with
    the session's state."""

    @functools.wraps(view)
    def step(request):
        state = _state(request)
        if state is None or "profile" not in state:
            return redirect("try")
        return view(request, state)

    return step


def _save(request, state: dict) -> None:
    request.session[SESSION_KEY] = state  # a new object: the session saves it


def _page(request, template: str, context: dict, status: int = 200):
    return render(request, f"recommender/try/{template}.html", context, status=status)


def _answers(state: dict) -> list[Answer]:
    return [Answer(*answer) for answer in state["answers"]]


@never_cache
@require_safe
def try_page(request):
    state = _state(request)
    if state is None:
        return _page(request, "password", {"form": PasswordForm()})
    if "profile" not in state:
        return _page(request, "profile", {"form": ProfileForm()})
    return _interview(request, state)


def _interview(request, state: dict, errors=(), status: int = 200):
    """This round's questions on one screen, else the recommendations; the search beside
    either."""
    try:
        recommender = get_recommender()
    except ModelUnavailable as exc:
        return _page(request, "unavailable", {"message": exc.detail}, status=503)
    profile, answers = Profile(**state["profile"]), _answers(state)
    context = {"errors": errors, **_search(request, recommender, answers)}
    room = MAX_ANSWERS - len(answers)
    if state.get("asking", True) and room > 0:
        questions = recommender.questions(profile, answers, min(QUESTIONS_PER_ROUND, room))
        if questions:
            context.update(questions=questions, choices=ROUND_CHOICES)
            return _page(request, "question", context, status=status)
    context.update(
        profile=state["profile"],
        items=recommender.recommend(profile, SHOWN, answers=answers),
        answered=len(answers),
        can_answer_more=room > 0 and bool(recommender.questions(profile, answers, 1)),
    )
    return _page(request, "results", context, status=status)


def _search(request, recommender, answers) -> dict:
    """The search form, and with a query the films it finds that the served model can take
    as answers; those already answered say how."""
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    if not query:
        return {"search": form, "q": ""}
    said = {answer.movie_id: answer for answer in answers}
    movies = catalogue()
    found = []
    for place in movies.find(Filters(q=query)):
        movie = movies.rows[int(place)]
        if movie.id in recommender.column_of:
            found.append({"movie": movie, "answer": _said(said.get(movie.id))})
        if len(found) == FOUND:
            break
    return {"search": form, "q": query, "found": found, "marks": MARK_CHOICES}


def _said(answer: Answer | None) -> str | None:
    """How the page words an answer already given."""
    if answer is None:
        return None
    if answer.rating is None:
        return "seen it" if answer.seen else "haven't seen it"
    return SAID.get(answer.rating, f"rated {answer.rating} of 5")


@never_cache
@require_POST
def unlock(request):
    form = PasswordForm(request.POST)
    if not form.is_valid():
        return _page(request, "password", {"form": form}, status=400)
    try:
        accepted = session_password_accepted(request, form.cleaned_data["session_password"])
    except Throttled as exc:
        wait = math.ceil(exc.wait or 1)
        form.add_error(None, f"Too many attempts: try again in {wait} seconds.")
        response = _page(request, "password", {"form": form}, status=429)
        response["Retry-After"] = str(wait)
        return response
    if not accepted:
        form.add_error("session_password", "Wrong session password.")
        return _page(request, "password", {"form": form}, status=400)
    request.session.cycle_key()  # a new session id for the unlocked session
    _save(request, {"password": password_fingerprint()})
    return redirect("try")


@never_cache
@require_POST
def set_profile(request):
    state = _state(request)
    if state is None:
        return redirect("try")
    form = ProfileForm(request.POST)
    if not form.is_valid():
        return _page(request, "profile", {"form": form}, status=400)
    profile = dataclasses.asdict(form.profile())
    _save(request, {**state, "profile": profile, "answers": [], "asking": True})
    return redirect("try")


@never_cache
@require_POST
@_with_profile
def answer(request, state: dict):
    """A round's answers, all at once; then the recommendations."""
    try:
        recommender = get_recommender()
    except ModelUnavailable:
        return _interview(request, state)  # which says so
    answered = {answer.movie_id for answer in _answers(state)}
    answers, errors = round_answers(
        request.POST, answered=answered, catalogue=recommender.column_of
    )
    if errors:
        return _interview(request, state, errors, status=400)
    stored = [*state["answers"], *map(_stored, answers)]
    _save(request, {**state, "answers": stored, "asking": False})
    return redirect("try")


@never_cache
@require_POST
@_with_profile
def mark(request, state: dict):
    """A film found by the search, marked: one more answer; back to the same search."""
    try:
        recommender = get_recommender()
    except ModelUnavailable:
        return _interview(request, state)  # which says so
    form = AnswerForm(
        request.POST,
        answered={answer.movie_id for answer in _answers(state)},
        catalogue=recommender.column_of,
        choices=MARK_CHOICES,
    )
    if not form.is_valid():
        errors = [error for field_errors in form.errors.values() for error in field_errors]
        return _interview(request, state, errors, status=400)
    _save(request, {**state, "answers": [*state["answers"], _stored(form.as_answer())]})
    query = request.POST.get("q", "").strip()
    return redirect(reverse("try") + (f"?{urlencode({'q': query})}#search" if query else ""))


def _stored(answer: Answer) -> list:
    """An answer as the session's JSON holds it."""
    return [answer.movie_id, answer.rating, answer.seen]


@never_cache
@require_POST
@_with_profile
def answer_more(request, state: dict):
    _save(request, {**state, "asking": True})
    return redirect("try")


@never_cache
@require_POST
def start_over(request):
    state = _state(request)
    if state is not None:
        _save(request, {"password": state["password"]})
    return redirect("try")
