"""What a person and a rating can be, and what is measured: defined once, for the model
and for the web app's validation, models and forms."""

# ml-100k's occupations, in its order (a scorer codes them by position).
OCCUPATIONS = [
    "administrator", "artist", "doctor", "educator", "engineer", "entertainment",
    "executive", "healthcare", "homemaker", "lawyer", "librarian", "marketing", "none",
    "other", "programmer", "retired", "salesman", "scientist", "student", "technician",
    "writer",
]  # fmt: skip
# (code, label) of what the API accepts; ml-100k's raters are M or F only.
GENDERS = (("M", "Male"), ("F", "Female"), ("O", "Other"))
GENDER_CODES = tuple(code for code, _ in GENDERS)
MIN_AGE, MAX_AGE = 0, 120
MIN_SCORE, MAX_SCORE = 1, 5
POSITIVE_SCORE = 4  # a rating this high or higher is a liked, relevant movie
DEMOGRAPHICS = ["age", "gender", "occupation"]
# A ratings frame's optional column of the person each rater copies (a stand-in's resampled
# raters, bench/standin.py): folds and tuning splits keep every copy of a person together.
SOURCE = "source"
UNKNOWN_TITLE = "unknown"  # ml-100k's placeholder movie: never served, never asked about

# What is measured: NDCG@K and the other ranking metrics; the interviews of INTERVIEW_KS
# questions and the first FIRST_KS ratings that the answers' blends are tuned and reported on.
K = 10
INTERVIEW_KS = (5, 10)
FIRST_KS = (1, 3, 5, 10)
