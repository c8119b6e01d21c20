"""Moodle item statistics against hand-computed examples; every expected number is worked out in the comments."""

from __future__ import annotations

import math

import pytest

from dashboards.statistics import (
    MIN_ATTEMPTS_TO_JUDGE,
    AttemptScores,
    TakenAttempt,
    choice_frequencies,
    cronbach_alpha,
    discrimination_index,
    discriminative_efficiency,
    facility_index,
    flags,
    item_statistics,
    kurtosis,
    median,
    pick_attempts,
    quiz_statistics,
    random_guess_score,
    skewness,
    standard_deviation,
)


def attempts_from(*rows: dict[str, float]) -> list[AttemptScores]:
    return [AttemptScores(attempt_id=number, item_scores=row) for number, row in enumerate(rows, start=1)]


# Data set A: five attempts at three one-mark items.
#
#   attempt  q1  q2  q3  total
#      1      1   1   1    3
#      2      1   1   0    2
#      3      1   0   0    1
#      4      0   1   0    1
#      5      0   0   0    0
SET_A = attempts_from(
    {"q1": 1, "q2": 1, "q3": 1},
    {"q1": 1, "q2": 1, "q3": 0},
    {"q1": 1, "q2": 0, "q3": 0},
    {"q1": 0, "q2": 1, "q3": 0},
    {"q1": 0, "q2": 0, "q3": 0},
)
Q1_SCORES = [1.0, 1.0, 1.0, 0.0, 0.0]


def test_facility_index_is_mean_as_percent_of_max():
    # q1: (1 + 1 + 1 + 0 + 0) / 5 = 0.6 of the mark -> 60 %
    assert facility_index(Q1_SCORES) == pytest.approx(60.0)


def test_facility_index_scales_by_max_mark():
    # Two-mark item, scores 2, 1.5, 1, 0.5: mean 5 / 4 = 1.25 marks, 1.25 / 2 = 62.5 %
    assert facility_index([2.0, 1.5, 1.0, 0.5], max_mark=2.0) == pytest.approx(62.5)


def test_facility_index_one_attempt_is_its_score():
    assert facility_index([0.5]) == pytest.approx(50.0)


def test_facility_index_no_attempts_is_none():
    assert facility_index([]) is None


def test_standard_deviation_uses_sample_variance():
    # q1: mean 0.6; deviations 0.4, 0.4, 0.4, -0.6, -0.6
    # squares 0.16 * 3 + 0.36 * 2 = 1.2; / (n - 1 = 4) = 0.3; sqrt(0.3) = 0.547723 -> 54.77 %
    # (population SD would be sqrt(1.2 / 5) = 48.99 %, which is not what Moodle shows)
    assert standard_deviation(Q1_SCORES) == pytest.approx(54.7723, abs=1e-4)


def test_standard_deviation_scales_by_max_mark():
    # Scores 2, 1.5, 1, 0.5 (max 2): mean 1.25, deviations 0.75, 0.25, -0.25, -0.75
    # squares 0.5625 + 0.0625 + 0.0625 + 0.5625 = 1.25; / 3 = 0.416667; sqrt = 0.645497; / 2 = 0.322749 -> 32.27 %
    assert standard_deviation([2.0, 1.5, 1.0, 0.5], max_mark=2.0) == pytest.approx(32.2749, abs=1e-4)


def test_standard_deviation_one_attempt_is_none():
    assert standard_deviation([1.0]) is None
    assert standard_deviation([]) is None


def test_standard_deviation_zero_variance_is_zero():
    # Everyone scored 0.1: the spread is known to be nothing, even though 0.1 is not exact in binary.
    assert standard_deviation([0.1, 0.1, 0.1]) == 0.0


def test_discrimination_index_correlates_item_with_rest_of_test():
    # x = q1 = 1, 1, 1, 0, 0 (mean 0.6); X = rest = q2 + q3 = 2, 1, 0, 1, 0 (mean 0.8)
    # dx = 0.4, 0.4, 0.4, -0.6, -0.6;  dX = 1.2, 0.2, -0.8, 0.2, -0.8
    # sum dx*dX = 0.48 + 0.08 - 0.32 - 0.12 + 0.48 = 0.6   -> C = 0.6 / 4 = 0.15
    # sum dx^2 = 1.2 -> V(x) = 0.3;  sum dX^2 = 1.44 + 0.04 + 0.64 + 0.04 + 0.64 = 2.8 -> V(X) = 0.7
    # r = 0.15 / sqrt(0.3 * 0.7) = 0.15 / 0.458258 = 0.327327 -> 32.73 %
    assert discrimination_index(SET_A, "q1") == pytest.approx(32.7327, abs=1e-4)


def test_discrimination_index_ignores_attempts_without_the_item():
    # A randomly drawn quiz: attempt 6 never saw q1, so it is outside q1's population and changes nothing.
    with_extra = [*SET_A, AttemptScores(attempt_id=6, item_scores={"q2": 1, "q3": 1})]
    assert discrimination_index(with_extra, "q1") == pytest.approx(32.7327, abs=1e-4)


def test_discrimination_index_negative_when_strong_learners_fail():
    # q1 = 0, 0, 1, 1 and rest = q2 = 1, 1, 0, 0: exact opposites, r = -1 -> -100 %
    attempts = attempts_from({"q1": 0, "q2": 1}, {"q1": 0, "q2": 1}, {"q1": 1, "q2": 0}, {"q1": 1, "q2": 0})
    assert discrimination_index(attempts, "q1") == pytest.approx(-100.0)


def test_discrimination_index_no_attempts_is_none():
    assert discrimination_index([], "q1") is None


def test_discrimination_index_one_attempt_is_none():
    assert discrimination_index(SET_A[:1], "q1") is None


def test_discrimination_index_zero_item_variance_is_none():
    # Everyone got q1 right: no spread to correlate.
    attempts = attempts_from({"q1": 1, "q2": 1}, {"q1": 1, "q2": 0}, {"q1": 1, "q2": 1})
    assert discrimination_index(attempts, "q1") is None


def test_discrimination_index_zero_rest_variance_is_none():
    # q1 varies but the rest of the test (q2) is the same for everyone.
    attempts = attempts_from({"q1": 1, "q2": 1}, {"q1": 0, "q2": 1}, {"q1": 1, "q2": 1})
    assert discrimination_index(attempts, "q1") is None


def test_discriminative_efficiency_divides_by_sorted_covariance():
    # C(x, X) = 0.15 from the discrimination example.
    # Sorted ascending: x = 0, 0, 1, 1, 1 (dx = -0.6, -0.6, 0.4, 0.4, 0.4)
    #                   X = 0, 0, 1, 1, 2 (dX = -0.8, -0.8, 0.2, 0.2, 1.2)
    # sum dx*dX = 0.48 + 0.48 + 0.08 + 0.08 + 0.48 = 1.6 -> C_max = 1.6 / 4 = 0.4
    # DE = 100 * 0.15 / 0.4 = 37.5 %
    assert discriminative_efficiency(SET_A, "q1") == pytest.approx(37.5)


def test_discriminative_efficiency_full_when_order_already_maximal():
    # x = 0, 0, 1, 1 against X = 0, 1, 2, 3: already sorted together, so C = C_max and DE = 100 %,
    # while r is only (2/3) / sqrt((1/3) * (5/3)) = 0.894427 -> 89.44 %: a 0/1 item cannot reach r = 1 here.
    # (dx = -.5, -.5, .5, .5; dX = -1.5, -.5, .5, 1.5; sum dx*dX = 2 -> C = 2/3; sum dX^2 = 5 -> V(X) = 5/3)
    attempts = attempts_from(
        {"q1": 0, "a": 0, "b": 0, "c": 0},
        {"q1": 0, "a": 1, "b": 0, "c": 0},
        {"q1": 1, "a": 1, "b": 1, "c": 0},
        {"q1": 1, "a": 1, "b": 1, "c": 1},
    )
    assert discriminative_efficiency(attempts, "q1") == pytest.approx(100.0)
    assert discrimination_index(attempts, "q1") == pytest.approx(89.4427, abs=1e-4)


def test_discriminative_efficiency_negative_when_strong_learners_fail():
    # q1 = 0, 0, 1, 1; rest = 1, 1, 0, 0. dx = -.5, -.5, .5, .5; dX = .5, .5, -.5, -.5
    # C = (-.25 * 4) / 3 = -1/3; sorted both ascending gives C_max = +1/3; DE = -100 %
    attempts = attempts_from({"q1": 0, "q2": 1}, {"q1": 0, "q2": 1}, {"q1": 1, "q2": 0}, {"q1": 1, "q2": 0})
    assert discriminative_efficiency(attempts, "q1") == pytest.approx(-100.0)


def test_discriminative_efficiency_edge_cases_are_none():
    assert discriminative_efficiency([], "q1") is None
    assert discriminative_efficiency(SET_A[:1], "q1") is None
    everyone_right = attempts_from({"q1": 1, "q2": 1}, {"q1": 1, "q2": 0})
    assert discriminative_efficiency(everyone_right, "q1") is None


def test_cronbach_alpha_hand_computed():
    # Sample item variances: q1 = 0.3 (above); q2 = 1,1,0,1,0 -> mean 0.6 -> 0.3;
    #   q3 = 1,0,0,0,0 -> mean 0.2, squares 0.64 + 4 * 0.04 = 0.8, / 4 = 0.2.  Sum = 0.8
    # Totals 3, 2, 1, 1, 0: mean 1.4, squares 2.56 + 0.36 + 0.16 + 0.16 + 1.96 = 5.2, / 4 = 1.3
    # alpha = 3/2 * (1 - 0.8 / 1.3) = 1.5 * 0.5 / 1.3 = 15/26 = 0.576923
    # (population variances give 0.64 / 1.04: the same ratio, so the convention does not move alpha)
    assert cronbach_alpha(SET_A, ["q1", "q2", "q3"]) == pytest.approx(15 / 26)


def test_cronbach_alpha_uses_only_complete_attempts():
    partial = AttemptScores(attempt_id=6, item_scores={"q1": 1, "q2": 0})
    assert cronbach_alpha([*SET_A, partial], ["q1", "q2", "q3"]) == pytest.approx(15 / 26)


def test_cronbach_alpha_undefined_cases_are_none():
    assert cronbach_alpha([], ["q1", "q2"]) is None
    assert cronbach_alpha(SET_A[:1], ["q1", "q2", "q3"]) is None
    assert cronbach_alpha(SET_A, ["q1"]) is None  # k = 1 divides by k - 1 = 0
    same_total = attempts_from({"q1": 1, "q2": 0}, {"q1": 0, "q2": 1})  # totals 1, 1: V(T) = 0
    assert cronbach_alpha(same_total, ["q1", "q2"]) is None


def test_choice_frequencies_counts_each_key_of_a_multiple_answer():
    # Responses: {a}, {a, c}, {b}, {c, a}, {} -> a 3, b 1, c 2; a key repeated in one response counts once.
    chosen = [["a"], ["a", "c"], ["b"], ["c", "a"], [], ["b", "b"]]
    assert choice_frequencies(chosen) == {"a": 3, "b": 2, "c": 2}


def test_choice_frequencies_lists_unpicked_choices_as_zero():
    assert choice_frequencies([["a"]], choices=["a", "b"]) == {"a": 1, "b": 0}
    assert choice_frequencies([]) == {}


ENOUGH = MIN_ATTEMPTS_TO_JUDGE


def test_flags_easy_at_threshold_is_quiet():
    assert flags("easy", 50.0, 40.0, ENOUGH) == []


def test_flags_easy_below_threshold():
    assert flags("easy", 49.9, 40.0, ENOUGH) == [
        "labelled easy but learners earned only 49.9% of its marks (easy questions should score at least 50%)"
    ]


def test_flags_hard_at_threshold_is_quiet():
    assert flags("hard", 80.0, 40.0, ENOUGH) == []


def test_flags_hard_above_threshold():
    assert flags("hard", 80.1, 40.0, ENOUGH) == [
        "labelled hard but learners earned 80.1% of its marks (hard questions should score at most 80%)"
    ]


def test_flags_medium_band_edges():
    assert flags("medium", 20.0, 40.0, ENOUGH) == []
    assert flags("medium", 90.0, 40.0, ENOUGH) == []
    assert flags("medium", 19.9, 40.0, ENOUGH)[0].startswith("labelled medium but learners earned only 19.9%")
    assert flags("medium", 90.1, 40.0, ENOUGH)[0].startswith("labelled medium but learners earned 90.1%")


def test_flags_label_is_case_insensitive_and_unknown_labels_are_ignored():
    assert len(flags("Easy", 30.0, 40.0, ENOUGH)) == 1
    assert flags("brutal", 30.0, 40.0, ENOUGH) == []
    assert flags(None, 30.0, 40.0, ENOUGH) == []


def test_flags_efficiency_at_threshold_is_quiet():
    assert flags("medium", 60.0, 15.0, ENOUGH) == []


def test_flags_efficiency_below_threshold():
    assert flags("medium", 60.0, 14.9, ENOUGH) == [
        "discriminative efficiency is 14.9%, under 15%: "
        "learners who do well on the rest of the quiz barely do better on this question"
    ]


def test_flags_negative_efficiency_points_at_the_key():
    assert "check the answer key" in flags("medium", 60.0, -20.0, ENOUGH)[0]


def test_flags_undefined_statistics_raise_nothing():
    assert flags("easy", None, None, ENOUGH) == []


def test_flags_too_few_attempts_says_how_many_more():
    assert flags("easy", 10.0, 0.0, 8) == ["12 more attempts needed (have 8, need 20)"]


def test_flags_one_short_is_singular():
    assert flags("easy", 60.0, 40.0, ENOUGH - 1) == ["1 more attempt needed (have 19, need 20)"]


def test_flags_min_attempts_is_configurable():
    assert flags("easy", 60.0, 40.0, 0, min_attempts=0) == []
    assert flags("easy", 60.0, 40.0, 3, min_attempts=5) == ["2 more attempts needed (have 3, need 5)"]


def test_item_statistics_bundles_one_population():
    stats = item_statistics(SET_A, "q1", "medium", [["a"], ["a"], ["a"], ["b"], ["b", "c"]], choices="abcd")
    assert stats.item == "q1"
    assert stats.n == 5
    assert stats.facility == pytest.approx(60.0)
    assert stats.standard_deviation == pytest.approx(54.7723, abs=1e-4)
    assert stats.discrimination_index == pytest.approx(32.7327, abs=1e-4)
    assert stats.discriminative_efficiency == pytest.approx(37.5)
    assert stats.choice_frequencies == {"a": 3, "b": 2, "c": 1, "d": 0}
    assert stats.flags == ["15 more attempts needed (have 5, need 20)"]


def test_item_statistics_with_no_attempts():
    stats = item_statistics([], "q1", "easy", [])
    assert (stats.n, stats.facility, stats.standard_deviation) == (0, None, None)
    assert (stats.discrimination_index, stats.discriminative_efficiency) == (None, None)
    assert stats.flags == ["20 more attempts needed (have 0, need 20)"]


def test_quiz_statistics_hand_computed():
    # Totals 3, 2, 1, 1, 0 out of 3 -> 100, 66.67, 33.33, 33.33, 0 %; mean 1.4 / 3 = 46.67 %
    # Sample SD of totals sqrt(1.3) = 1.140175 marks -> / 3 = 38.006 %
    stats = quiz_statistics(SET_A, ["q1", "q2", "q3"])
    assert (stats.n, stats.n_complete) == (5, 5)
    assert stats.alpha == pytest.approx(15 / 26)
    assert stats.mean_score == pytest.approx(140 / 3)
    assert stats.sd_score == pytest.approx(100 * math.sqrt(1.3) / 3)


def test_quiz_statistics_weights_by_item_max():
    # q1 worth 2: attempt 1 earns 2 + 1 = 3 of 3 (100 %), attempt 2 earns 0 + 1 = 1 of 3 (33.33 %); mean 66.67 %
    # SD: deviations +-33.33, squares 2 * 1111.11 = 2222.22, / 1 -> sqrt = 47.14 %
    attempts = attempts_from({"q1": 2, "q2": 1}, {"q1": 0, "q2": 1})
    stats = quiz_statistics(attempts, ["q1", "q2"], item_max={"q1": 2.0})
    assert stats.mean_score == pytest.approx(200 / 3)
    assert stats.sd_score == pytest.approx(100 * math.sqrt(2) / 3)


def test_quiz_statistics_no_attempts():
    stats = quiz_statistics([], ["q1", "q2"])
    assert (stats.n, stats.n_complete, stats.alpha, stats.mean_score, stats.sd_score) == (0, 0, None, None, None)


def test_quiz_statistics_one_attempt_has_mean_but_no_spread():
    stats = quiz_statistics(SET_A[:1], ["q1", "q2", "q3"])
    assert stats.mean_score == pytest.approx(100.0)
    assert (stats.sd_score, stats.alpha) == (None, None)


def test_quiz_statistics_shape_of_the_scores():
    # Scores 3, 2, 1, 1, 0 of 3 (as percentages; skewness and kurtosis do not depend on the scale): median 1 -> 33.33 %
    # Mean 1.4; d = 1.6, 0.6, -0.4, -0.4, -1.4
    # sum d^2 = 5.2 -> m2 = 1.04; sum d^3 = 4.096 + 0.216 - 0.064 - 0.064 - 2.744 = 1.44 -> m3 = 0.288
    # sum d^4 = 6.5536 + 0.1296 + 0.0256 + 0.0256 + 3.8416 = 10.576 -> m4 = 2.1152
    # k2 = 5 * 1.04 / 4 = 1.3; k3 = 25 * 0.288 / (4 * 3) = 0.6; skewness = 0.6 / 1.3^1.5 = 0.404796
    # k4 = 25 * (6 * 2.1152 - 3 * 4 * 1.04^2) / (4 * 3 * 2) = 25 * (12.6912 - 12.9792) / 24 = -0.3
    # kurtosis = -0.3 / 1.3^2 = -0.177515
    stats = quiz_statistics(SET_A, ["q1", "q2", "q3"])
    assert stats.median_score == pytest.approx(100 / 3)
    assert stats.skewness == pytest.approx(0.404796, abs=1e-6)
    assert stats.kurtosis == pytest.approx(-0.177515, abs=1e-6)


def test_median_is_the_middle_or_the_mean_of_the_middle_two():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5  # (2 + 3) / 2
    assert median([7.0]) == 7.0
    assert median([]) is None


def test_skewness_and_kurtosis_of_one_high_score():
    # 0, 0, 0, 3: mean 0.75; d = -0.75 (x3), 2.25
    # sum d^2 = 3 * 0.5625 + 5.0625 = 6.75 -> m2 = 1.6875
    # sum d^3 = 3 * -0.421875 + 11.390625 = 10.125 -> m3 = 2.53125
    # sum d^4 = 3 * 0.31640625 + 25.62890625 = 26.578125 -> m4 = 6.64453125
    # k2 = 4 * 1.6875 / 3 = 2.25; k3 = 16 * 2.53125 / (3 * 2) = 6.75; skewness = 6.75 / 2.25^1.5 = 6.75 / 3.375 = 2
    # k4 = 16 * (5 * 6.64453125 - 3 * 3 * 1.6875^2) / (3 * 2 * 1) = 16 * 7.59375 / 6 = 20.25; kurtosis = 20.25 / 5.0625 = 4
    assert skewness([0.0, 0.0, 0.0, 3.0]) == pytest.approx(2.0)
    assert kurtosis([0.0, 0.0, 0.0, 3.0]) == pytest.approx(4.0)


def test_kurtosis_of_an_even_spread_is_negative():
    # 1, 2, 3, 4: mean 2.5; d = -1.5, -0.5, 0.5, 1.5; m2 = 5 / 4 = 1.25; m4 = 10.25 / 4 = 2.5625
    # k2 = 4 * 1.25 / 3 = 5/3; k4 = 16 * (5 * 2.5625 - 9 * 1.5625) / 6 = 16 * -1.25 / 6 = -10/3
    # kurtosis = (-10/3) / (25/9) = -1.2; skewness 0 (symmetric)
    assert kurtosis([1.0, 2.0, 3.0, 4.0]) == pytest.approx(-1.2)
    assert skewness([1.0, 2.0, 3.0, 4.0]) == pytest.approx(0.0)


def test_skewness_and_kurtosis_need_enough_differing_scores():
    assert skewness([1.0, 2.0]) is None  # S - 2 = 0
    assert kurtosis([1.0, 2.0, 3.0]) is None  # S - 3 = 0
    assert skewness([5.0, 5.0, 5.0]) is None and kurtosis([5.0, 5.0, 5.0, 5.0]) is None  # k2 = 0


def test_random_guess_score():
    assert random_guess_score(4, 1) == pytest.approx(25.0)  # one right among four: 1/4
    assert random_guess_score(3, 2) == pytest.approx(100 / 7)  # the one right set among 2^3 - 1 = 7 non-empty sets
    assert random_guess_score(0, 1) is None and random_guess_score(4, 0) is None


def test_pick_attempts_first_best_all():
    taken = [
        TakenAttempt(attempt_id=1, learner=1, started=1.0, score=40.0),
        TakenAttempt(attempt_id=2, learner=1, started=2.0, score=80.0),
        TakenAttempt(attempt_id=3, learner=1, started=3.0, score=80.0),  # ties the best: the earlier one counts
        TakenAttempt(attempt_id=4, learner=2, started=0.5, score=50.0),
    ]
    assert sorted(pick_attempts(taken, "first")) == [1, 4]
    assert sorted(pick_attempts(taken, "best")) == [2, 4]
    assert pick_attempts(taken, "all") == [4, 1, 2, 3]
    with pytest.raises(ValueError):
        pick_attempts(taken, "latest")


def test_flags_facility_band_edges():
    assert flags(None, 20.0, 40.0, ENOUGH) == [] and flags(None, 90.0, 40.0, ENOUGH) == []
    assert flags(None, 19.9, 40.0, ENOUGH) == ["too hard: learners earned only 19.9% of its marks (under 20%)"]
    assert flags(None, 90.1, 40.0, ENOUGH) == ["too easy: learners earned 90.1% of its marks (over 90%)"]


def test_flags_discrimination_index_edge():
    assert flags(None, 60.0, 40.0, ENOUGH, discrimination=20.0) == []
    assert flags(None, 60.0, 40.0, ENOUGH, discrimination=19.9) == [
        "discrimination index is 19.9%, under 20%: "
        "it barely separates learners who know the topic from those who do not"
    ]


def test_flags_a_distractor_nobody_picks():
    assert flags(None, 60.0, 40.0, ENOUGH, unpicked=["c"]) == [
        "nobody picked choice c: a distractor that distracts nobody"
    ]
    assert flags(None, 60.0, 40.0, ENOUGH - 1, unpicked=["c"]) == ["1 more attempt needed (have 19, need 20)"]


def test_item_statistics_names_unpicked_distractors_and_the_guess_score():
    # Choices a-d, a correct: d is a wrong choice nobody picked; b and c were picked. The correct key is never a
    # distractor, even unpicked. Guessing one of four earns 25 %.
    stats = item_statistics(
        SET_A, "q1", None, [["a"], ["a"], ["a"], ["b"], ["c"]], choices="abcd", min_attempts=0, correct="a"
    )
    assert stats.random_guess == pytest.approx(25.0)
    assert "nobody picked choice d: a distractor that distracts nobody" in stats.flags
    assert not any("choice a" in flag or "choice b" in flag for flag in stats.flags)
