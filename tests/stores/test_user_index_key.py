"""The user index key: a key prefix and a user ID spelt so that no two pairs share a key."""

from __future__ import annotations

import itertools
import random

import pytest

from dynsession.stores.users import user_in_index_key, user_index_key

PREFIXES = ["", "dc:", "dc:shop:", "dc:#", "dc:#x", "a%", "a%23", "#", "%"]
USERS = ["", "alice", "shop:alice", "#", "%", "a#b", "a%23b", "%23", "%2523", "x#alice", "ü#%"]


def test_the_key_starts_with_the_prefix_and_reads_back_with_that_prefix_only() -> None:
    assert user_index_key("dc:", "alice") == "dc:#alice"
    assert user_index_key("dc:", "shop:alice") == "dc:#shop:alice"
    assert user_index_key("dc:shop:", "alice") == "dc:shop:#alice"
    for prefix, user in itertools.product(PREFIXES, USERS):
        spelt = user_index_key(prefix, user)
        assert spelt.startswith(prefix)
        assert user_in_index_key(prefix, spelt) == user
        for other in PREFIXES:
            if other != prefix:
                assert user_in_index_key(other, spelt) is None


def test_no_two_pairs_share_a_key() -> None:
    pairs = list(itertools.product(PREFIXES, USERS))
    assert len({user_index_key(prefix, user) for prefix, user in pairs}) == len(pairs)


def test_random_pairs_never_collide() -> None:
    seed = random.randrange(2**32)
    print(f"seed {seed}")
    rng = random.Random(seed)
    alphabet = "ab:#%23"
    spelt: dict[str, tuple[str, str]] = {}
    for _ in range(20_000):
        pair = (
            "".join(rng.choices(alphabet, k=rng.randrange(5))),
            "".join(rng.choices(alphabet, k=rng.randrange(6))),
        )
        key = user_index_key(*pair)
        assert spelt.setdefault(key, pair) == pair, f"seed {seed}: {pair} and {spelt[key]} share {key!r}"
        assert user_in_index_key(pair[0], key) == pair[1]


@pytest.mark.parametrize(
    ("prefix", "key"),
    [
        ("dc:", "dc:alice"),  # written before the separator: no user
        ("dc:", "dc:shop:#alice"),  # another app's user
        ("dc:", "dc:#a#b"),  # an unescaped separator
        ("dc:", "dc:#%2523x%23"),  # fine: "%23x#"
    ],
)
def test_keys_of_other_prefixes_or_spellings_name_no_user(prefix: str, key: str) -> None:
    expected = "%23x#" if key.endswith("%23") else None
    assert user_in_index_key(prefix, key) == expected
