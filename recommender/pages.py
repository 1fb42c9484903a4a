"""/try/: the service for a person with a browser, no JavaScript needed. Server-rendered
forms ask for the session password, then age, gender and occupation, then one question at
a time, and show the recommendations, with a way to answer more.

The state lives in Django's session: the fingerprint of the session password it was
unlocked with (so that changing SESSION_PASSWORD locks every page again, as it retires
every token), the profile, and the answers. Plain Django forms read the input into
coldstart's Profile and Answer; no API serializer is involved. Each form posts to its own
URL and redirects back to /try/ (post/redirect/get); bad input re-renders the form with
its errors and status 400.
"""

import dataclasses
import hmac
import math

from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from rest_framework.exceptions import Throttled

from coldstart.serving import Answer, Profile
from recommender.forms import AnswerForm, PasswordForm, ProfileForm
from recommender.serving import MAX_ANSWERS, ModelUnavailable, get_recommender
from recsite.access.login import session_password_accepted
from recsite.access.password import password_fingerprint

SESSION_KEY = "try"
QUESTIONS_PER_ROUND = 5
SHOWN = 10  # recommendations


def _state(request) -> dict | None:
    """The page's state; None while locked: never unlocked, or unlocked with a session
    password that is no longer the current one (that state is dropped)."""
    state = request.session.get(SESSION_KEY)
    if state and hmac.compare_digest(state.get("password", ""), password_fingerprint()):
        return state
    request.session.pop(SESSION_KEY, None)
    return None


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


def _interview(request, state: dict, form: AnswerForm | None = None, status: int = 200):
    """The next question of this round, else the recommendations."""
    try:
        recommender = get_recommender()
    except ModelUnavailable as exc:
        return _page(request, "unavailable", {"message": exc.detail}, status=503)
    profile, answers = Profile(**state["profile"]), _answers(state)
    if len(answers) < state["round_end"]:
        questions = recommender.questions(profile, answers, 1)
        if questions:
            context = {
                "movie": questions[0],
                "number": len(answers) - state["round_start"] + 1,
                "of": state["round_end"] - state["round_start"],
                "form": form,
            }
            return _page(request, "question", context, status=status)
    context = {
        "profile": state["profile"],
        "items": recommender.recommend(profile, SHOWN, answers=answers),
        "answered": len(answers),
        "can_answer_more": len(answers) < MAX_ANSWERS
        and bool(recommender.questions(profile, answers, 1)),
        "form": form,
    }
    return _page(request, "results", context, status=status)


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
    round_ = {"round_start": 0, "round_end": QUESTIONS_PER_ROUND}
    profile = dataclasses.asdict(form.profile())
    _save(request, {**state, "profile": profile, "answers": [], **round_})
    return redirect("try")


@never_cache
@require_POST
def answer(request):
    state = _state(request)
    if state is None or "profile" not in state:
        return redirect("try")
    try:
        recommender = get_recommender()
    except ModelUnavailable:
        return _interview(request, state)  # which says so
    form = AnswerForm(
        request.POST,
        answered={answer.movie_id for answer in _answers(state)},
        catalogue=recommender.column_of,
    )
    if not form.is_valid():
        return _interview(request, state, form, status=400)
    _save(request, {**state, "answers": [*state["answers"], _stored(form.as_answer())]})
    return redirect("try")


def _stored(answer: Answer) -> list:
    """An answer as the session's JSON holds it."""
    return [answer.movie_id, answer.rating, answer.seen]


@never_cache
@require_POST
def answer_more(request):
    state = _state(request)
    if state is None or "profile" not in state:
        return redirect("try")
    start = len(state["answers"])
    end = min(start + QUESTIONS_PER_ROUND, MAX_ANSWERS)
    _save(request, {**state, "round_start": start, "round_end": end})
    return redirect("try")


@never_cache
@require_POST
def start_over(request):
    state = _state(request)
    if state is not None:
        _save(request, {"password": state["password"]})
    return redirect("try")
