"""Quiz item statistics with Moodle's definitions (docs.moodle.org/dev/Quiz_statistics_calculations), Django-free.

Population: Moodle's "all attempts" option. Every attempt passed in is treated as an independent test-taker,
so the caller decides which attempts count (finished ones, normally) and this module never filters by learner.

Variance convention: sample variance and covariance (divide by n - 1) everywhere, as Moodle does for the item SD,
V(x_i), C(x_i, X_i) and the test variance k2. Correlation, discriminative efficiency and Cronbach's alpha are
ratios of such terms, so the n - 1 cancels in them; only the standard deviations depend on the choice.

Percentages: facility, SD, discrimination index and discriminative efficiency are on Moodle's 0-100 scale.
Cronbach's alpha is returned as the usual 0-1 coefficient; Moodle shows the same number x 100 and calls it CIC.

Test-level shape (median, skewness, kurtosis) follows Moodle's quiz statistics calculator
(mod/quiz/report/statistics/classes/calculator.php, "Quiz statistics calculations: Test statistics" on
docs.moodle.org/dev): the median of the attempt scores (the mean of the middle two for an even count), and
skewness k3 / k2^(3/2) and kurtosis k4 / k2^2 from the k-statistics of the sample moments m_r = sum(d^r) / S:
k2 = S m2 / (S - 1), k3 = S^2 m3 / ((S - 1)(S - 2)), k4 = S^2 ((S + 1) m4 - 3 (S - 1) m2^2) / ((S - 1)(S - 2)(S - 3)).
Kurtosis so defined is excess kurtosis: 0 for a normal distribution.

Random guess score follows Moodle's question types (question/type/multichoice/questiontype.php,
get_random_guess_score): for one correct answer, the mean mark over the choices, 1 / number of choices. Core Moodle
gives none for several correct answers; our multiple-answer questions are all-or-nothing, so the mean mark over
every non-empty set of choices, each equally likely, is 1 / (2^choices - 1).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

MIN_ATTEMPTS_TO_JUDGE = 20
MIN_DISCRIMINATIVE_EFFICIENCY = 15.0
# A question most learners get wrong, or nearly all get right, tells the instructor little (issue 16's band).
MIN_FACILITY = 20.0
MAX_FACILITY = 90.0
# Moodle's discrimination index is 100 x r; under 0.2 the question barely separates stronger from weaker learners.
MIN_DISCRIMINATION_INDEX = 20.0

# Which attempts an analysis counts, per learner; Moodle offers the same choice ("first attempt", "highest graded
# attempt", "all attempts").
ATTEMPT_SELECTIONS: dict[str, str] = {
    "first": "each learner's first finished attempt",
    "best": "each learner's best finished attempt",  # the highest score; the earlier one on a tie
    "all": "every finished attempt",
}
DEFAULT_ATTEMPT_SELECTION = "first"

# Expected facility (% of the item's marks earned) for each bank difficulty label, inclusive at both ends. They
# follow Moodle's reading of F: 80+ is "easy", 20 or under is "very difficult", 90+ is "very easy".
EASY_MIN_FACILITY = 50.0
MEDIUM_MIN_FACILITY = 20.0
MEDIUM_MAX_FACILITY = 90.0
HARD_MAX_FACILITY = 80.0
EXPECTED_FACILITY: dict[str, tuple[float, float]] = {
    "easy": (EASY_MIN_FACILITY, 100.0),
    "medium": (MEDIUM_MIN_FACILITY, MEDIUM_MAX_FACILITY),
    "hard": (0.0, HARD_MAX_FACILITY),
}


@dataclass(frozen=True)
class AttemptScores:
    attempt_id: int
    # question id -> score earned on that item in this attempt, 0..max (items not in the attempt are absent)
    item_scores: dict[str, float]


@dataclass(frozen=True)
class ItemStatistics:
    item: str
    n: int  # attempts that contain the item
    facility: float | None
    standard_deviation: float | None
    discrimination_index: float | None
    discriminative_efficiency: float | None
    choice_frequencies: dict[str, int] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    random_guess: float | None = None  # % of the mark a learner guessing at random would earn


@dataclass(frozen=True)
class TakenAttempt:
    """What choosing among a learner's attempts needs: who took it, when, and the score."""

    attempt_id: int
    learner: int
    started: float  # any increasing measure of time, such as a timestamp
    score: float


@dataclass(frozen=True)
class QuizStatistics:
    n: int  # all attempts: the population of the mean and SD
    n_complete: int  # attempts containing every item: the population of alpha
    alpha: float | None
    mean_score: float | None  # % of each attempt's own maximum, averaged
    sd_score: float | None  # sample SD of those percentages
    median_score: float | None = None
    skewness: float | None = None
    kurtosis: float | None = None  # excess kurtosis


def _mean(values: Sequence[float]) -> float:
    """Use fsum so long runs of fractional marks do not drift."""
    return math.fsum(values) / len(values)


def _covariance(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Sample covariance (n - 1), Moodle's C(x, y); V(x) is C(x, x)."""
    mx, my = _mean(xs), _mean(ys)
    return math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / (len(xs) - 1)


def _constant(values: Sequence[float]) -> bool:
    """Test equality exactly: a computed variance of equal floats can come out as 1e-34 instead of 0."""
    return len(set(values)) < 2


def _item_and_rest(attempts: Iterable[AttemptScores], item: str) -> tuple[list[float], list[float]]:
    """Moodle's x_i and X_i = T - x_i, over the attempts in which the item appeared."""
    xs: list[float] = []
    rests: list[float] = []
    for attempt in attempts:
        if item in attempt.item_scores:
            xs.append(attempt.item_scores[item])
            rests.append(math.fsum(score for key, score in attempt.item_scores.items() if key != item))
    return xs, rests


def facility_index(scores_for_item: Sequence[float], max_mark: float = 1.0) -> float | None:
    """Moodle F: mean item score as % of the item's range, so a bare mean reads the same for any max mark."""
    if not scores_for_item or max_mark <= 0:
        return None
    return 100 * _mean(scores_for_item) / max_mark


def standard_deviation(scores_for_item: Sequence[float], max_mark: float = 1.0) -> float | None:
    """Moodle SD: sample SD of the item score as % of max; undefined below two attempts, 0.0 when nobody differs."""
    if len(scores_for_item) < 2 or max_mark <= 0:
        return None
    if _constant(scores_for_item):
        return 0.0
    return 100 * math.sqrt(_covariance(scores_for_item, scores_for_item)) / max_mark


def discrimination_index(attempts: Iterable[AttemptScores], item: str) -> float | None:
    """Moodle D: 100 x Pearson r(item, rest of test), so the item is not correlated with itself."""
    xs, rests = _item_and_rest(attempts, item)
    if len(xs) < 2 or _constant(xs) or _constant(rests):
        return None
    variance_product = _covariance(xs, xs) * _covariance(rests, rests)
    return 100 * _covariance(xs, rests) / math.sqrt(variance_product)


def discriminative_efficiency(attempts: Iterable[AttemptScores], item: str) -> float | None:
    """Moodle DE: 100 x C(item, rest) / C_max, C_max pairing both sorted ascending: the best this item could do."""
    xs, rests = _item_and_rest(attempts, item)
    if len(xs) < 2 or _constant(xs) or _constant(rests):
        return None
    maximum = _covariance(sorted(xs), sorted(rests))
    if maximum <= 0:  # cannot happen for two non-constant lists (Chebyshev's sum inequality); guard anyway
        return None
    return 100 * _covariance(xs, rests) / maximum


def cronbach_alpha(attempts: Iterable[AttemptScores], items: Iterable[str]) -> float | None:
    """Cronbach's alpha (Moodle's CIC / 100) over attempts holding every item, sample variances throughout."""
    keys = list(dict.fromkeys(items))
    k = len(keys)
    rows = [
        [attempt.item_scores[key] for key in keys]
        for attempt in attempts
        if all(key in attempt.item_scores for key in keys)
    ]
    if k < 2 or len(rows) < 2:
        return None
    totals = [math.fsum(row) for row in rows]
    if _constant(totals):
        return None
    columns = [list(column) for column in zip(*rows, strict=True)]
    item_variance_sum = math.fsum(_covariance(column, column) for column in columns)
    return k / (k - 1) * (1 - item_variance_sum / _covariance(totals, totals))


def choice_frequencies(chosen_lists: Iterable[Iterable[str]], choices: Iterable[str] = ()) -> dict[str, int]:
    """How many responses picked each key: a multiple-answer response counts every key once; `choices` adds zeros."""
    counts: Counter[str] = Counter({key: 0 for key in choices})
    for chosen in chosen_lists:
        counts.update(set(chosen))
    return dict(sorted(counts.items()))


def pick_attempts(taken: Iterable[TakenAttempt], selection: str) -> list[int]:
    """Ids of the attempts an analysis counts: per learner the first, the best, or all of them (ATTEMPT_SELECTIONS)."""
    if selection not in ATTEMPT_SELECTIONS:
        raise ValueError(f"unknown attempt selection {selection!r}")
    taken = sorted(taken, key=lambda attempt: (attempt.started, attempt.attempt_id))
    if selection == "all":
        return [attempt.attempt_id for attempt in taken]
    chosen: dict[int, TakenAttempt] = {}
    for attempt in taken:
        current = chosen.get(attempt.learner)
        if current is None or (selection == "best" and attempt.score > current.score):
            chosen[attempt.learner] = attempt
    return [attempt.attempt_id for attempt in chosen.values()]


def median(values: Sequence[float]) -> float | None:
    """Moodle's median score: the middle value, or the mean of the middle two for an even count."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _moments(values: Sequence[float]) -> tuple[int, float, float, float]:
    """S and Moodle's sample moments m2, m3, m4 about the mean (each sum of powers divided by S)."""
    s = len(values)
    mean = _mean(values)
    m2, m3, m4 = (math.fsum((value - mean) ** power for value in values) / s for power in (2, 3, 4))
    return s, m2, m3, m4


def skewness(values: Sequence[float]) -> float | None:
    """Moodle's skewness k3 / k2^(3/2): undefined below three attempts or when every score is the same."""
    if len(values) < 3 or _constant(values):
        return None
    s, m2, m3, _ = _moments(values)
    k2 = s * m2 / (s - 1)
    k3 = s * s * m3 / ((s - 1) * (s - 2))
    return k3 / k2**1.5


def kurtosis(values: Sequence[float]) -> float | None:
    """Moodle's (excess) kurtosis k4 / k2^2: undefined below four attempts or when every score is the same."""
    if len(values) < 4 or _constant(values):
        return None
    s, m2, _, m4 = _moments(values)
    k2 = s * m2 / (s - 1)
    k4 = s * s * ((s + 1) * m4 - 3 * (s - 1) * m2 * m2) / ((s - 1) * (s - 2) * (s - 3))
    return k4 / (k2 * k2)


def random_guess_score(choice_count: int, correct_count: int) -> float | None:
    """% of the mark earned on average by guessing: 1 / choices for one correct answer (Moodle's multichoice),
    1 / (2^choices - 1) when the learner must pick the exact set of several (every non-empty set equally likely)."""
    if choice_count < 1 or correct_count < 1:
        return None
    if correct_count == 1:
        return 100 / choice_count
    return 100 / (2**choice_count - 1)


def flags(
    difficulty_label: str | None,
    facility: float | None,
    efficiency: float | None,
    n_attempts: int,
    min_attempts: int = MIN_ATTEMPTS_TO_JUDGE,
    *,
    discrimination: float | None = None,
    unpicked: Sequence[str] = (),
) -> list[str]:
    """Plain-English warnings for an instructor; below `min_attempts` only the shortfall is reported, not noise.

    `unpicked` lists the wrong choices nobody chose: a distractor that distracts nobody."""
    if n_attempts < min_attempts:
        missing = min_attempts - n_attempts
        noun = "attempt" if missing == 1 else "attempts"
        return [f"{missing} more {noun} needed (have {n_attempts}, need {min_attempts})"]
    found: list[str] = []
    label = (difficulty_label or "").strip().lower()
    if facility is not None and label in EXPECTED_FACILITY:
        low, high = EXPECTED_FACILITY[label]
        if facility < low:
            found.append(
                f"labelled {label} but learners earned only {facility:.1f}% of its marks "
                f"({label} questions should score at least {low:g}%)"
            )
        elif facility > high:
            found.append(
                f"labelled {label} but learners earned {facility:.1f}% of its marks "
                f"({label} questions should score at most {high:g}%)"
            )
    if facility is not None and facility < MIN_FACILITY:
        found.append(f"too hard: learners earned only {facility:.1f}% of its marks (under {MIN_FACILITY:g}%)")
    elif facility is not None and facility > MAX_FACILITY:
        found.append(f"too easy: learners earned {facility:.1f}% of its marks (over {MAX_FACILITY:g}%)")
    if discrimination is not None and discrimination < MIN_DISCRIMINATION_INDEX:
        found.append(
            f"discrimination index is {discrimination:.1f}%, under {MIN_DISCRIMINATION_INDEX:g}%: "
            "it barely separates learners who know the topic from those who do not"
        )
    if efficiency is not None and efficiency < MIN_DISCRIMINATIVE_EFFICIENCY:
        if efficiency < 0:
            why = "learners who do well on the rest of the quiz do worse on this question; check the answer key"
        else:
            why = "learners who do well on the rest of the quiz barely do better on this question"
        found.append(f"discriminative efficiency is {efficiency:.1f}%, under {MIN_DISCRIMINATIVE_EFFICIENCY:g}%: {why}")
    for key in unpicked:
        found.append(f"nobody picked choice {key}: a distractor that distracts nobody")
    return found


def item_statistics(
    attempts: Iterable[AttemptScores],
    item: str,
    difficulty_label: str | None,
    chosen_lists: Iterable[Iterable[str]],
    max_mark: float = 1.0,
    choices: Iterable[str] = (),
    min_attempts: int = MIN_ATTEMPTS_TO_JUDGE,
    correct: Iterable[str] = (),
) -> ItemStatistics:
    """Everything the item-analysis table shows for one question, computed over one shared population.

    `correct` names the right choices: the others are distractors, flagged when nobody picks them."""
    attempts = list(attempts)
    choices = list(choices)
    correct = set(correct)
    scores = [attempt.item_scores[item] for attempt in attempts if item in attempt.item_scores]
    facility = facility_index(scores, max_mark)
    efficiency = discriminative_efficiency(attempts, item)
    discrimination = discrimination_index(attempts, item)
    frequencies = choice_frequencies(chosen_lists, choices)
    unpicked = [key for key, count in frequencies.items() if count == 0 and correct and key not in correct]
    return ItemStatistics(
        item=item,
        n=len(scores),
        facility=facility,
        standard_deviation=standard_deviation(scores, max_mark),
        discrimination_index=discrimination,
        discriminative_efficiency=efficiency,
        choice_frequencies=frequencies,
        flags=flags(
            difficulty_label,
            facility,
            efficiency,
            len(scores),
            min_attempts,
            discrimination=discrimination,
            unpicked=unpicked,
        ),
        random_guess=random_guess_score(len(choices), len(correct)) if choices and correct else None,
    )


def quiz_statistics(
    attempts: Iterable[AttemptScores], items: Iterable[str], item_max: Mapping[str, float] | None = None
) -> QuizStatistics:
    """Test-level figures: mean and SD over all attempts as % of each attempt's maximum, alpha over `items`."""
    attempts = list(attempts)
    items = list(dict.fromkeys(items))
    item_max = item_max or {}
    percents: list[float] = []
    for attempt in attempts:
        maximum = math.fsum(item_max.get(key, 1.0) for key in attempt.item_scores)
        if maximum > 0:
            percents.append(100 * math.fsum(attempt.item_scores.values()) / maximum)
    complete = sum(1 for attempt in attempts if all(key in attempt.item_scores for key in items))
    sd: float | None = None
    if len(percents) >= 2:
        sd = 0.0 if _constant(percents) else math.sqrt(_covariance(percents, percents))
    return QuizStatistics(
        n=len(attempts),
        n_complete=complete,
        alpha=cronbach_alpha(attempts, items),
        mean_score=_mean(percents) if percents else None,
        sd_score=sd,
        median_score=median(percents),
        skewness=skewness(percents),
        kurtosis=kurtosis(percents),
    )
