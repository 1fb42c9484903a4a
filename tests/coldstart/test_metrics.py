"""Each ranking metric against hand-computed cases."""

from math import log2

import numpy as np
import pytest

from coldstart.metrics import (
    average_precision_at_k,
    catalogue_coverage,
    hit_rate_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    top_k,
)

# One rater: ranks 1 and 3 of the top 4 are relevant, out of 3 relevant movies.
HITS = [[True, False, True, False]]


def test_precision_counts_hits_over_k():
    assert precision_at_k(HITS, 4) == pytest.approx([2 / 4])
    assert precision_at_k(HITS, 1) == pytest.approx([1.0])


def test_recall_counts_hits_over_every_relevant_movie():
    assert recall_at_k(HITS, [3], 4) == pytest.approx([2 / 3])
    assert recall_at_k([[False, True]], [20], 2) == pytest.approx([1 / 20])


def test_hit_rate_is_one_if_anything_relevant_is_in_the_top():
    assert hit_rate_at_k([[False, False, True], [False, False, False]], 3) == pytest.approx(
        [1.0, 0.0]
    )
    assert hit_rate_at_k([[False, False, True]], 2) == pytest.approx([0.0])


def test_ndcg_has_binary_gain_log2_discount_and_ideal_over_min_k_relevant():
    dcg = 1 / log2(2) + 1 / log2(4)
    assert ndcg_at_k(HITS, [3], 4) == pytest.approx([dcg / (1 + 1 / log2(3) + 1 / log2(4))])
    # more relevant movies than k: the ideal list is k hits long
    assert ndcg_at_k([[False, True]], [20], 2) == pytest.approx([(1 / log2(3)) / (1 + 1 / log2(3))])
    assert ndcg_at_k([[True, True]], [2], 2) == pytest.approx([1.0])
    assert ndcg_at_k([[False, False]], [5], 2) == pytest.approx([0.0])


def test_average_precision_averages_precision_at_each_hit_over_min_k_relevant():
    assert average_precision_at_k(HITS, [3], 4) == pytest.approx([(1 / 1 + 2 / 3) / 3])
    assert average_precision_at_k([[False, True]], [20], 2) == pytest.approx([(1 / 2) / 2])


def test_a_catalogue_shorter_than_k_counts_the_missing_ranks_as_misses():
    assert precision_at_k([[True, True]], 4) == pytest.approx([2 / 4])
    assert ndcg_at_k([[True]], [3], 4) == pytest.approx([1 / (1 + 1 / log2(3) + 1 / log2(4))])


def test_top_k_is_best_first_with_ties_to_the_lower_column():
    assert top_k(np.array([[1.0, 3.0, 3.0, 0.0], [0.0, 0.0, 0.0, 1.0]]), 3).tolist() == [
        [1, 2, 0],
        [3, 0, 1],
    ]


def test_coverage_is_the_share_of_the_catalogue_in_any_list():
    assert catalogue_coverage(np.array([[1, 2], [2, 3]]), 10) == pytest.approx(0.3)
