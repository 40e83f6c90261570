"""Fake visitors for trying the directory at scale: English and Chinese names from Faker's lists, bulk-inserted."""

import random
import string
from datetime import timedelta
from itertools import accumulate

from sqlalchemy import select, text

from ..database import UPSERT_DIALECTS, insert_unless_taken
from ..extensions import db
from ..i18n import gettext as _
from ..models import USERNAME_MAX_LENGTH, Role, User, utcnow
from ..text import normalise_name, search_key

MAX_COUNT = 10_000_000
BATCH_SIZE = 10_000
CHINESE_SHARE = 1 / 3
HISTORY = timedelta(days=730)
# Administrators and moderators, by share; the rest are plain users.
ROLE_SHARES = ((Role.ADMINISTRATOR, 0.001), (Role.MODERATOR, 0.01))
# English names: "First Last", "First M. Last" or "First Middle Last", by these shares.
INITIAL_SHARE, MIDDLE_NAME_SHARE = 0.35, 0.15
# Chinese given names: one character or two.
ONE_CHARACTER_SHARE = 0.2
# A batch of candidates bringing fewer new names than this share means the lists are nearly used up.
MIN_NEW_SHARE = 0.01


class SeedingError(Exception):
    """Seeding cannot start or go on; the message says why."""


class NameMaker:
    """Draw batches of fake names, English (en_US) and Chinese (zh_CN) mixed, weighted like Faker's own lists."""

    def __init__(self, rng, chinese_share=CHINESE_SHARE):
        # Here, not at the top: importing Faker takes a tenth of a second, which no app start should pay.
        from faker.providers.person.en_US import Provider as EnglishNames
        from faker.providers.person.zh_CN import Provider as ChineseNames

        self.rng = rng
        self.chinese_share = chinese_share
        self.first_names, self.first_weights = _weighted(EnglishNames.first_names)
        self.last_names, self.last_weights = _weighted(EnglishNames.last_names)
        # Flattened (square root) frequencies: Wang and Li would otherwise run out of given names long before the rest.
        self.surnames, self.surname_weights = _weighted({name: weight ** 0.5
                                                         for name, weight in ChineseNames.last_names.items()})
        self.given_characters = sorted(set("".join(ChineseNames.first_names)))

    def batch(self, size):
        """Return `size` names, not necessarily distinct."""
        chinese = sum(self.rng.random() < self.chinese_share for _ in range(size))
        names = self.english(size - chinese) + self.chinese(chinese)
        self.rng.shuffle(names)
        return names

    def english(self, size):
        """Return `size` English names."""
        rng, choices = self.rng, self.rng.choices
        firsts = choices(self.first_names, cum_weights=self.first_weights, k=size)
        middles = choices(self.first_names, cum_weights=self.first_weights, k=size)
        lasts = choices(self.last_names, cum_weights=self.last_weights, k=size)
        names = []
        for first, middle, last in zip(firsts, middles, lasts):
            draw = rng.random()
            if draw < INITIAL_SHARE:
                middle = rng.choice(string.ascii_uppercase) + "."
            elif draw >= INITIAL_SHARE + MIDDLE_NAME_SHARE or middle == first:
                names.append(f"{first} {last}")
                continue
            names.append(f"{first} {middle} {last}")
        return names

    def chinese(self, size):
        """Return `size` Chinese names: a surname, then a given name of one or two characters."""
        rng, characters = self.rng, self.given_characters
        surnames = rng.choices(self.surnames, cum_weights=self.surname_weights, k=size)
        return [surname + (rng.choice(characters) if rng.random() < ONE_CHARACTER_SHARE
                           else rng.choice(characters) + rng.choice(characters))
                for surname in surnames]


def _weighted(frequencies):
    """Split a name-to-frequency mapping into names and cumulative weights, for random.choices()."""
    return list(frequencies), list(accumulate(frequencies.values()))


def seed_users(count, *, seed=None, chinese_share=CHINESE_SHARE, batch_size=BATCH_SIZE, progress=None):
    """Add `count` new fake users seen over the last two years, calling progress(total) per batch; return how many."""
    if not 1 <= count <= MAX_COUNT:
        raise SeedingError(_("The number of names must be between 1 and %(most)s, not %(count)s.",
                              most=f"{MAX_COUNT:,}", count=f"{count:,}"))
    if not 0 <= chinese_share <= 1:
        raise SeedingError(_("The share of Chinese names must be between 0 and 1, not %(share)s.", share=chinese_share))
    engine = db.engine
    if engine.dialect.name not in UPSERT_DIALECTS:
        raise SeedingError(_("Seeding supports SQLite and PostgreSQL, not %(database)s.", database=engine.dialect.name))
    # Names someone else stored meanwhile are skipped; the rowcount says what really went in.
    statement = insert_unless_taken(engine.dialect.name, User.__table__, "username")
    with engine.connect() as connection:
        role_ids = dict(connection.execute(select(Role.name, Role.id)).all())
        taken = set(connection.scalars(select(User.username)))
    if missing := [name for name in Role.NAMES if name not in role_ids]:
        raise SeedingError(_("The database has no role %(roles)s: run `flask db upgrade` first.",
                              roles=", ".join(missing)))
    rng = random.Random(seed)
    maker = NameMaker(rng, chinese_share)
    now, history = utcnow(), HISTORY.total_seconds()
    inserted = 0
    while inserted < count:
        new = [name for name in dict.fromkeys(map(normalise_name, maker.batch(batch_size)))
               if name not in taken and len(name) <= USERNAME_MAX_LENGTH]
        if len(new) < MIN_NEW_SHARE * batch_size:
            raise SeedingError(_("Faker's name lists are running out of new names after %(count)s.",
                                  count=f"{inserted:,}"))
        rows = []
        for name in new[:count - inserted]:
            taken.add(name)
            first_seen = now - timedelta(seconds=rng.random() * history)
            rows.append({
                "username": name,
                "search_key": search_key(name),
                "role_id": role_ids[_role(rng.random())],
                "first_seen": first_seen,
                "last_seen": first_seen + (now - first_seen) * rng.random(),
            })
        # An executemany's rowcount is -1 unless asked for (and then summed over the rows, on both databases).
        with engine.begin() as connection:
            added = connection.execution_options(preserve_rowcount=True).execute(statement, rows).rowcount
        if added < 0:
            raise SeedingError("The database driver does not count inserted rows.")
        inserted += added
        if progress:
            progress(inserted)
    with engine.begin() as connection:
        # Fresh statistics for the planners: right after a bulk load PostgreSQL guessed 100 matches for a substring
        # that had 17,443.
        connection.execute(text("ANALYZE users"))
    return inserted


def _role(draw):
    """Return the role name a uniform draw in [0, 1) falls on."""
    for name, share in ROLE_SHARES:
        if draw < share:
            return name
        draw -= share
    return Role.DEFAULT
