"""The fitted scorer, document names and the eval's speaker check, each on its own: no model, no index."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bot.errors import CivicbotError
from bot.features import MONOTONE, QUESTION_FEATURES, SENTENCE_FEATURES, Features
from bot.scorer import BoostedTrees, Ensemble, Scorer, Scorers, Tree, load_scorers
from bot.snapshot import Snapshot
from evals import metrics as m
from evals.suites import Example, _boosted, _out_of_fold, exported_trees, fit_scorer
from tests.conftest import make_passage


def test_the_shipped_scorers_load_and_round_trip() -> None:
    shipped = load_scorers()
    again = Scorers.from_dict(json.loads(shipped.to_json()))
    rows = np.random.default_rng(0).normal(size=(5, len(SENTENCE_FEATURES)))
    for view in (False, True):
        scorer = shipped.for_view(view)
        assert scorer.sentence.names == SENTENCE_FEATURES and scorer.question.names == QUESTION_FEATURES
        assert np.allclose(again.for_view(view).sentence.predict(rows), scorer.sentence.predict(rows))
        assert scorer.personal_threshold >= scorer.answer_threshold
    # Each view has its own weights: the two models' similarities are on different scales.
    assert shipped.english.sentence.coef != shipped.multilingual.sentence.coef


def test_a_tree_sends_a_row_left_at_its_threshold_and_gives_the_leaf_it_reaches() -> None:
    # Node 0 splits on feature 1 at 0.5; node 2 splits on feature 0 at -1.0.
    tree = Tree(feature=(1, -2, 0, -2, -2), threshold=(0.5, 0, -1.0, 0, 0), left=(1, -1, 3, -1, -1),
                right=(2, -1, 4, -1, -1), value=(0, -1.0, 0, 0.5, 2.0))  # fmt: skip
    stump = Tree(feature=(-2,), threshold=(0.0,), left=(-1,), right=(-1,), value=(0.25,))
    rows = np.array([[0.0, 0.5], [-2.0, 0.6], [0.0, 0.6]])
    logit = np.log(BoostedTrees(names=("a", "b"), trees=(tree, stump)).predict(rows))
    logit -= np.log1p(-np.exp(logit))
    assert np.allclose(logit, [-0.75, 0.75, 2.25])


def test_boosted_trees_learn_what_two_signals_say_together_and_survive_json() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(600, len(QUESTION_FEATURES)))
    # How high the first signal must be depends on the second (as a similarity means less across languages).
    y = x[:, 0] > np.where(x[:, 1] > 0, 1.0, -1.0)
    model = _boosted(x, y, QUESTION_FEATURES)
    test = rng.normal(size=(300, len(QUESTION_FEATURES)))
    truth = test[:, 0] > np.where(test[:, 1] > 0, 1.0, -1.0)
    assert ((model.predict(test) >= 0.5) == truth).mean() > 0.9
    scorer = Scorer(sentence=load_scorers().english.sentence, question=model)
    again = Scorer.from_dict(json.loads(scorer.to_json()))
    assert isinstance(again.question, BoostedTrees)
    assert np.array_equal(again.question.predict(test), model.predict(test))


def test_exported_trees_predict_what_scikit_learn_fitted() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, 3))
    y = x[:, 0] * x[:, 1] + 0.3 * rng.normal(size=400) > 0
    model = HistGradientBoostingClassifier(max_depth=3, max_iter=40, random_state=0).fit(x, y)
    test = rng.normal(size=(200, 3))
    exported = exported_trees(model, ("a", "b", "c"))
    assert np.allclose(exported.predict(test), model.predict_proba(test)[:, 1], atol=1e-12)


def test_the_shipped_trees_never_answer_less_for_a_closer_match() -> None:
    rng = np.random.default_rng(4)
    for view in (False, True):
        question = load_scorers().for_view(view).question
        assert isinstance(question, Ensemble)
        trees = next(m for m in question.members if isinstance(m, BoostedTrees))
        rows = rng.uniform(-1.0, 4.0, size=(200, len(QUESTION_FEATURES)))
        for name, direction in MONOTONE.items():
            moved = rows.copy()
            moved[:, QUESTION_FEATURES.index(name)] += direction * rng.uniform(0.0, 2.0, size=len(rows))
            assert np.all(trees.predict(moved) >= trees.predict(rows) - 1e-12), name


def test_cut_offs_are_chosen_on_probabilities_from_models_that_never_saw_the_question() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, len(QUESTION_FEATURES)))
    y = rng.random(300) < 0.5  # labels with nothing behind them
    groups = np.repeat(np.arange(6), 50)
    from sklearn.metrics import roc_auc_score

    seen = roc_auc_score(y, _boosted(x, y, QUESTION_FEATURES).predict(x))
    unseen = roc_auc_score(y, _out_of_fold(x, y, groups))
    # Trees memorize noise on their own questions; on others they know nothing, and a cut-off must see that.
    assert seen > 0.8 and unseen < 0.65


def test_a_scorer_file_without_a_scorer_per_view_is_refused_with_what_to_do(tmp_path: Path) -> None:
    single = tmp_path / "scorer.json"
    single.write_text(load_scorers().english.to_json(), encoding="utf-8")
    with pytest.raises(CivicbotError, match="one per view; refit"):
        load_scorers(single)


def test_a_scorer_fitted_on_other_features_is_refused() -> None:
    data = json.loads(load_scorers().english.to_json())
    data["sentence"]["names"] = ["something", "else"]
    with pytest.raises(CivicbotError, match="other features"):
        Scorer.from_dict(data)


def _example(rng: np.random.Generator, answerable: bool) -> Example:
    rows = rng.normal(size=(6, len(SENTENCE_FEATURES)))
    labels = np.zeros(6, dtype=bool)
    if answerable:
        rows[0, 0] += 4.0  # one sentence stands out on the first feature, and it is the answer
        labels[0] = True
    features = Features(candidates=[], rows=rows, coverage=[0.5] * 6, unknown=0.0)
    query = SimpleNamespace(legal_advice=False, injection=False, asks=None, concepts=(1,), context=())
    return Example("s", "g", query, features, labels, answerable)  # type: ignore[arg-type]


def test_fitting_learns_which_sentences_answer_and_when_to_abstain() -> None:
    rng = np.random.default_rng(1)
    train = [_example(rng, i % 2 == 0) for i in range(80)]
    scorer = fit_scorer(train, ["synthetic"])
    test = [_example(rng, i % 2 == 0) for i in range(20)]
    for e in test:
        p = scorer.sentence.predict(e.features.rows)
        if e.answerable:
            assert int(np.argmax(p)) == 0
    assert scorer.sentence.coef[0] > 0 and 0.05 <= scorer.answer_threshold <= 0.95


def test_a_question_naming_one_city_singles_out_its_document() -> None:
    snap = Snapshot(
        [
            make_passage("ashford", 1, "The fine in Ashford is $200, Mayor Lena Ortiz said."),
            make_passage("brookvale", 1, "The fine in Brookvale is $300, said Mayor Theo Park."),
        ],
        versions=(None, None, None, None),
    )
    assert snap.named_documents(snap.analyze("how much is the fine in ashford")) == {"ashford"}
    assert snap.named_documents(snap.analyze("what did mayor park say")) == {"brookvale"}
    assert snap.named_documents(snap.analyze("how much is the fine")) is None
    # Naming both is naming each, whatever the length of each name: it narrows nothing.
    both = snap.analyze("is the fine bigger in ashford or in brookvale")
    assert snap.named_documents(both) is None and snap.documents_named(both) == {"ashford", "brookvale"}


def test_a_document_named_as_a_whole_outranks_a_word_another_calls_a_name() -> None:
    snap = Snapshot(
        [
            make_passage("wrenfield", 1, "Permits in Wrenfield cost $35 a year."),
            make_passage("tollbury", 1, "Households with the Assistance Credit pay $25 a year."),
        ],
        versions=(None, None, None, None),
    )
    assert "credit" in snap.names["tollbury"]
    assert snap.documents_named(snap.analyze("can i pay for my Wrenfield permit with a credit card")) == {"wrenfield"}
    # Alone, the word still singles out the one document that uses it.
    assert snap.documents_named(snap.analyze("who gets the assistance credit")) == {"tollbury"}


def test_the_speaker_check_catches_a_name_civicbot_added() -> None:
    speakers = [
        SimpleNamespace(quote="the county cannot afford a new jail", speaker="Tom Hale", aliases=["Hale"]),
        SimpleNamespace(quote="we will build it anyway", speaker="Dana Ruiz", aliases=["Ruiz"]),
    ]
    source = ["Ruiz spoke first. He said the county cannot afford a new jail this year."]
    wrong = "Ruiz said the county cannot afford a new jail this year [1]."
    right = "He said the county cannot afford a new jail this year [1]."
    assert m.wrong_speakers(wrong, source, speakers) == ["Tom Hale → Ruiz"]
    assert m.wrong_speakers(right, source, speakers) == []


def test_a_cross_language_question_gets_its_own_cut_off_but_a_personal_one_never_a_lower_one() -> None:
    scorer = Scorer.from_dict(
        {**json.loads(load_scorers().english.to_json()), "answer_threshold": 0.6, "personal_threshold": 0.7}
        | {"cross_language_threshold": 0.45}
    )
    assert scorer.threshold(personal=False) == 0.6
    assert scorer.threshold(personal=False, cross_language=True) == 0.45
    assert scorer.threshold(personal=True, cross_language=True) == 0.7
    without = Scorer.from_dict({**json.loads(scorer.to_json()), "cross_language_threshold": None})
    assert without.threshold(personal=False, cross_language=True) == 0.6


def test_once_a_name_has_chosen_the_document_the_models_read_the_question_without_it() -> None:
    from bot.retrieve import _without_names

    snap = Snapshot(
        [
            make_passage("ashford", 1, "The fine in Ashford is $200, Mayor Lena Ortiz said."),
            make_passage("brookvale", 1, "The fine in Brookvale is $300, said Mayor Theo Park."),
        ],
        versions=(None, None, None, None),
    )
    named = snap.analyze("Brookvale fine for a third violation?")
    assert _without_names(named, snap, snap.named_documents(named)).search_text.lower().split() == [
        "fine",
        "for",
        "a",
        "third",
        "violation",
    ]
    plain = snap.analyze("how much is the fine")
    assert _without_names(plain, snap, snap.named_documents(plain)) is plain
