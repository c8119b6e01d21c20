"""The question bank loads, and broken quiz files are named by file, line and field."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from django.conf import settings

from lessons.catalogue import CatalogueError, load_catalogue
from quizzes.bank import get_bank, load_bank

GOOD_QUESTION = """\
  - id: alpha-one
    difficulty: easy
    kind: single
    stem: What is one?
    choices:
      - key: a
        text: "1"
        feedback: Yes.
      - key: b
        text: "2"
        feedback: No.
        mistake: Counting wrong.
    answer: [a]
    hints: [Count.]
    solution: [It is 1.]
    mistakes: [Counting from zero.]
"""


def test_bank_real_questions_meet_the_rules():
    bank = get_bank()
    catalogue = load_catalogue(Path(settings.CONTENT_DIR))
    for topic in catalogue.topics:
        if topic.quiz is None:
            continue
        questions = bank.for_topic(topic.slug)
        counts = {d: sum(q.difficulty == d for q in questions) for d in ("easy", "medium", "hard")}
        assert len(questions) >= 10 and counts["easy"] >= 3 and counts["medium"] >= 3 and counts["hard"] >= 2, (
            topic.slug,
            counts,
        )
        for question in questions:
            assert question.hints and question.solution and question.mistakes
            assert question.answer <= set(question.choices)


@pytest.fixture
def content(tmp_path):
    """A one-topic content tree whose quiz draws a single easy question."""
    from tests.lessons.test_catalogue import VALID_YAML, write_topic

    root = tmp_path / "content"
    yaml_text = VALID_YAML.replace(
        "modes: [concept, execution, walkthrough, playground, mistakes, snapshot]",
        "modes: [concept, quiz, walkthrough, mistakes, snapshot, qa]",
    )
    yaml_text = yaml_text.split("execution:")[0] + "quiz:\n  mix: {easy: 1}\n  pass_percent: 50\n"
    topic_dir = write_topic(root, yaml_text=yaml_text)
    for name in ("execution", "playground"):
        (topic_dir / f"{name}.md").unlink()
    for name in ("quiz", "qa"):
        (topic_dir / f"{name}.md").write_text("## Intro\n")
    (root / "quizzes").mkdir()
    return root


def bank_errors(content: Path, quiz_text: str) -> list[str]:
    (content / "quizzes" / "alpha.yaml").write_text(quiz_text)
    with pytest.raises(CatalogueError) as excinfo:
        load_bank(content, load_catalogue(content))
    return [str(error) for error in excinfo.value.errors]


def test_bank_fixture_is_valid(content):
    (content / "quizzes" / "alpha.yaml").write_text("questions:\n" + GOOD_QUESTION)
    bank = load_bank(content, load_catalogue(content))
    assert bank.questions["alpha-one"].answer == frozenset({"a"})


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda q: q.replace("answer: [a]", "answer: [z]"),
            "content/quizzes/alpha.yaml:14: alpha-one.answer: names choice 'z'",
        ),
        (
            lambda q: q.replace("difficulty: easy", "difficulty: brutal"),
            "content/quizzes/alpha.yaml:3: alpha-one.difficulty: must be one of easy, medium, hard",
        ),
        (
            lambda q: q.replace("    hints: [Count.]\n", ""),
            "content/quizzes/alpha.yaml:2: alpha-one.hints: is required",
        ),
        (
            lambda q: q.replace("    kind: single\n", "    kind: single\n    colour: red\n"),
            "content/quizzes/alpha.yaml:5: alpha-one.colour: unknown key",
        ),
        (
            lambda q: q.replace("answer: [a]", "answer: [a, b]"),
            "alpha-one.answer: a single question has exactly one correct key",
        ),
        (
            lambda q: q.replace("      - key: b", "      - key: a"),
            "content/quizzes/alpha.yaml:10: alpha-one.choices[1].key: duplicate choice key 'a'",
        ),
        (
            lambda q: q + "    verify:\n      consumer: 'x = ('\n      script: [{type: client.connect}]\n",
            "alpha-one.verify.consumer: does not compile",
        ),
        (
            lambda q: q + "    verify:\n      consumer: 'x = 1'\n      script: [{type: explode}]\n",
            "alpha-one.verify.script[0]: must be a mapping whose type is one of client.close, client.connect, client.send",
        ),
        (
            lambda q: q.replace("difficulty: easy", "difficulty: hard"),
            "content/quizzes/alpha.yaml: questions: the topic's quiz draws 1 easy questions but the bank has 0",
        ),
    ],
)
def test_bank_error_names_file_line_and_field(content, change, expected):
    messages = bank_errors(content, "questions:\n" + change(GOOD_QUESTION))
    assert any(expected in message for message in messages), messages


def test_bank_duplicate_id_is_named(content):
    messages = bank_errors(content, "questions:\n" + GOOD_QUESTION + GOOD_QUESTION)
    assert any("alpha-one: duplicate question id" in message for message in messages)


def test_bank_quiz_for_unknown_topic_is_named(content):
    (content / "quizzes" / "alpha.yaml").write_text("questions:\n" + GOOD_QUESTION)
    (content / "quizzes" / "ghost.yaml").write_text(
        "questions:\n"
        + textwrap.dedent(GOOD_QUESTION).replace("alpha-one", "ghost-one").replace("\n", "\n  ").join(["  ", ""])
    )
    with pytest.raises(CatalogueError) as excinfo:
        load_bank(content, load_catalogue(content))
    assert any("no topic has the slug 'ghost'" in str(error) for error in excinfo.value.errors)


CLAIMED_QUESTION = """\
  - id: alpha-code
    difficulty: easy
    kind: code
    stem: Does it accept?
    choices:
      - key: a
        text: "Yes"
        feedback: Yes.
        claim:
          expect: [{type: consumer.accept, client: c1}]
      - key: b
        text: "No, it raises"
        feedback: No.
        mistake: Misreading.
        claim:
          expect: [{type: error, client: c1, exception: KeyError}]
          forbid: [{type: consumer.accept, client: c1}]
      - key: c
        text: "It logs a warning"
        feedback: No.
        mistake: Misreading.
        no_claim: "Warnings are not events of the run."
    answer: [a]
    hints: [Read.]
    solution: [It accepts.]
    mistakes: [Reading wrong.]
    verify:
      consumer: 'x = 1'
      script: [{type: client.connect, client: c1, path: /ws/}]
"""


def test_bank_reads_choice_claims(content):
    (content / "quizzes" / "alpha.yaml").write_text("questions:\n" + GOOD_QUESTION + CLAIMED_QUESTION)
    question = load_bank(content, load_catalogue(content)).questions["alpha-code"]
    assert question.choices["a"].claim == {"expect": [{"type": "consumer.accept", "client": "c1"}]}
    assert question.choices["c"].claim is None and question.choices["c"].no_claim.startswith("Warnings")
    assert set(question.verify) == {"consumer", "script"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (  # a claim every run satisfies: empty
            lambda q: q.replace("          expect: [{type: consumer.accept, client: c1}]\n", "          expect: []\n"),
            "alpha-code.choices[0].claim: is empty: a claim every run satisfies proves nothing",
        ),
        (
            lambda q: q.replace(
                "        claim:\n          expect: [{type: consumer.accept, client: c1}]\n", "        claim: {}\n"
            ),
            "alpha-code.choices[0].claim: must be a mapping with expect and/or forbid",
        ),
        (
            lambda q: q.replace("exception: KeyError}", "}"),
            "alpha-code.choices[1].claim.expect[0]: an expected error must name its exception type",
        ),
        (
            lambda q: q.replace(
                "{type: consumer.accept, client: c1}]\n      - key: b", "{type: consumer.hug}]\n      - key: b"
            ),
            "alpha-code.choices[0].claim.expect[0]: must be a mapping whose type is one of",
        ),
        (
            lambda q: q.replace("exception: KeyError}", "exception: KeyError, message: {contains: ''}}"),
            "alpha-code.choices[1].claim.expect[0]: message: a mapping value must be {contains: non-empty text}",
        ),
        (
            lambda q: (
                q.replace("answer: [a]", "answer: [c]")
                .replace("        mistake: Misreading.\n        no_claim", "        no_claim")
                .replace(
                    '      - key: a\n        text: "Yes"\n        feedback: Yes.\n',
                    '      - key: a\n        text: "Yes"\n        feedback: Yes.\n        mistake: No.\n',
                )
            ),
            "alpha-code.verify: the keyed choice 'c' needs a claim the run proves",
        ),
        (
            lambda q: q.replace('        no_claim: "Warnings are not events of the run."\n', ""),
            "alpha-code.verify: choice 'c' needs a claim (or a no_claim saying why none can be run)",
        ),
        (
            lambda q: q + "      expect: [{type: consumer.accept}]\n",
            "alpha-code.verify: expect and forbid belong in the choices' claims, not on the block",
        ),
        (  # the old form: the block's own expect proved the key alone, and nothing refuted the distractors
            lambda q: (
                re.sub(r"        (claim:\n(          .*\n)+|no_claim: .*\n)", "", q)
                + "      expect: [{type: consumer.accept}]\n"
            ),
            "alpha-code.verify: the keyed choice 'a' needs a claim the run proves",
        ),
        (
            lambda q: q.replace(
                "          expect: [{type: error, client: c1, exception: KeyError}]\n          forbid: [{type: consumer.accept, client: c1}]\n",
                "          expect: [{type: consumer.accept, client: c1}]\n",
            ),
            "alpha-code.verify: choices 'a' and 'b' make the same claim",
        ),
        (
            lambda q: q.split("    verify:")[0],
            "alpha-code.verify: choice claims need a verify block to run",
        ),
    ],
)
def test_bank_rejects_malformed_or_vacuous_claims(content, change, expected):
    messages = bank_errors(content, "questions:\n" + GOOD_QUESTION + change(CLAIMED_QUESTION))
    assert any(expected in message for message in messages), messages
