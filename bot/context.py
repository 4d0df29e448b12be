"""The sentences a chosen sentence cannot stand without: the contest of a claim, what "this" points back to, the
speaker of "she said", a list's introduction and its items, the answer to a question the source asks. Context never
crosses a heading or the publication details."""

import re

from bot.attribution import Unit
from bot.snapshot import Snapshot

# "It does not pay for:" introduces a list about what the sentence before it names.
PRONOUN_START = re.compile(r"(?:It|They|He|She)\b")


def with_context(chosen: list[Unit], snap: Snapshot, max_words: int, name_speakers: bool = False) -> list[Unit]:
    """Each chosen sentence, best first, with the sentences it cannot stand without, in source order: a claim
    the source goes on to contest ("However, …") never appears without that contest; a sentence that points back
    ("no such actions") never appears without the one it points at, nor that one without it; a sentence that
    introduces a speaker brings the next one, which says what they said ("She said …"); a list item comes after
    its introduction, and an introduction before its items; a question the source asks brings its answer; and
    speech by a "she" no name was found for comes after the sentences back to the one that names her, or first
    (unless the question asks who), or not at all."""
    out: list[Unit] = []
    placed: set[tuple[str, int]] = set()
    for unit in chosen:
        block = [unit]
        preceding = _preceding(unit, snap) if unit.contrasts or unit.refers_back else None
        if preceding is not None:
            block.insert(0, preceding)
        if unit.unnamed_speaker and (out or name_speakers):
            named = _back_to_speaker(unit, snap)
            if named is None and out:
                continue  # after another sentence, "she added" would read as that sentence's speaker's words
            block = [*(named or []), *block]
        introduction, items = _list_context(unit, snap, max_words)
        block = [*introduction, *block, *items]
        if not unit.quote and unit.text.rstrip('"”’) ').endswith("?"):
            block += _answer_after(unit, snap)
        following = _following(unit, snap)
        if following is not None:
            same_passage = following.passage.id == unit.passage.id
            continues = same_passage and following.text.startswith(("He ", "She "))
            if (
                following.contrasts
                or (same_passage and following.refers_back)
                or (continues and following.speaker and following.speaker in unit.text)
            ):
                block.append(following)
        for u in block:
            if u.key in placed:
                continue
            placed.add(u.key)
            # A sentence whose speaker the one before it names goes right after that one, wherever it is.
            before = next((i for i, v in enumerate(out) if v.key == (u.passage.id, u.index - 1)), None)
            if u.unnamed_speaker and before is not None:
                out.insert(before + 1, u)
            else:
                out.append(u)
    return out


def _list_context(unit: Unit, snap: Snapshot, max_words: int) -> tuple[list[Unit], list[Unit]]:
    """What a list item needs before it (its introduction, and what an "It" there stands for) and what an
    introduction needs after it (its items): "pipes inside the home" means nothing without "It does not pay
    for:", nor "Please bring:" without the list."""
    items = _list_after(unit, snap, max_words) if unit.text.rstrip().endswith(":") else []
    intro = _list_intro(unit, snap)
    if intro is None:
        return [], items
    leans = intro.refers_back or intro.contrasts or bool(PRONOUN_START.match(intro.text))
    lead_in = _preceding(intro, snap) if leans else None
    return ([lead_in, intro] if lead_in is not None else [intro]), items


def _list_after(unit: Unit, snap: Snapshot, max_words: int) -> list[Unit]:
    """The items of the list a sentence introduces, as many as fit the length limit: the sentences after it that
    have it as their context."""
    items: list[Unit] = []
    words = len(unit.text.split())
    passage = snap.next_passage(unit.passage) if unit.passage.n > 0 else None
    while passage is not None and passage.context.endswith(unit.text.strip()):
        for item in snap.units(passage):
            words += len(item.text.split())
            if words > max_words:
                return items
            items.append(item)
        passage = snap.next_passage(passage)
    return items


def _list_intro(unit: Unit, snap: Snapshot) -> Unit | None:
    """The sentence that introduces the list a sentence is an item of, if it is one."""
    intro = unit.passage.context.rpartition(" — ")[2]
    if not intro.endswith(":"):
        return None
    passage = snap.previous_passage(unit.passage)
    while passage is not None and passage.n > 0:
        units = snap.units(passage)
        if units and intro.endswith(units[-1].text.strip()):
            return units[-1]
        if not passage.context.endswith(intro):
            return None
        passage = snap.previous_passage(passage)
    return None


def _answer_after(unit: Unit, snap: Snapshot) -> list[Unit]:
    """What answers a question the source itself asks (an FAQ's "Is it free?"): the sentence after it, and the
    one after that when the first is only "Yes." or "No."."""
    out: list[Unit] = []
    current: Unit | None = unit
    while current is not None and len(out) < 2:
        current = _following(current, snap)
        if current is not None:
            out.append(current)
            if len(current.text.split()) > 2:
                break
    return out


def _back_to_speaker(unit: Unit, snap: Snapshot, limit: int = 3) -> list[Unit] | None:
    """The sentences before a pronoun's reported speech, back to the nearest one that names a speaker of the
    document (at most `limit`), in source order; None when none of them does."""
    surnames = snap.speakers(unit.passage.slug).surnames
    chain: list[Unit] = []
    current = unit
    for _ in range(limit):
        previous = _preceding(current, snap)
        if previous is None:
            return None
        chain.insert(0, previous)
        if previous.speaker or any(re.search(rf"\b{re.escape(name)}\b", previous.text) for name in surnames):
            return chain
        if not previous.unnamed_speaker:
            return None  # a sentence between that names nobody and quotes nobody: the thread is lost
        current = previous
    return None


# Passage 0 (publication details) is not part of the article's text: context never crosses into or out of it.
# Nor does it cross a heading: "This ordinance takes effect…" opening a section points at the document, not at
# the last sentence of the section before.
def _preceding(unit: Unit, snap: Snapshot) -> Unit | None:
    if unit.index > 0:
        return snap.units(unit.passage)[unit.index - 1]
    before = snap.previous_passage(unit.passage) if unit.passage.n > 1 else None
    return snap.units(before)[-1] if before is not None and before.context == unit.passage.context else None


def _following(unit: Unit, snap: Snapshot) -> Unit | None:
    units = snap.units(unit.passage)
    if unit.index + 1 < len(units):
        return units[unit.index + 1]
    nxt = snap.next_passage(unit.passage) if unit.passage.n > 0 else None
    return snap.units(nxt)[0] if nxt is not None and nxt.context == unit.passage.context else None
