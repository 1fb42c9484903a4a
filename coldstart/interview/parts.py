"""Which parts of the interview model ``fit_interview`` fits: all of them by default (what
``train_model`` serves). Switching one off leaves the rest fitted and tuned exactly as
before, so a model without a part measures what that part adds (bench/ablation.py)."""

from dataclasses import dataclass

from coldstart.answers import BLOCK_RATINGS


@dataclass(frozen=True)
class Parts:
    """``blocks``: how many of the factor model's blocks (answers.BLOCK_RATINGS, in order:
    seen, liked, loved, disliked) it models, at least the first two that serving always
    reads; ``revise``: the question list's revision pass after greedy; ``prefix``: the
    prefix regressions (off: mix 0, the factor model's shift alone); ``volunteered``: the
    volunteered regression (off: mix 0); ``genres``: its genre features; ``own_list``:
    the question list chosen for this model (off: the nearest-raters baseline's list,
    coldstart/baselines.py, with everything else tuned for it)."""

    blocks: int = len(BLOCK_RATINGS)
    revise: bool = True
    prefix: bool = True
    volunteered: bool = True
    genres: bool = True
    own_list: bool = True

    def __post_init__(self) -> None:
        if not 2 <= self.blocks <= len(BLOCK_RATINGS):
            raise ValueError(f"blocks must be 2 to {len(BLOCK_RATINGS)}, not {self.blocks}")


ALL_PARTS = Parts()
