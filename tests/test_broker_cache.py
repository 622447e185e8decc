"""ServedCredentials: when the server renews, and that concurrent requests share one renewal."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from stsdash.broker.cache import ServedCredentials
from stsdash.creds import Credentials
from stsdash.engine import RefreshResult
from stsdash.errors import StsdashError
from stsdash.settings import Settings

T0 = datetime(2030, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class FakeEngine:
    """The engine's public API, answering with numbered fake credentials of a given lifetime."""

    def __init__(self, clock: Clock, lifetime: timedelta) -> None:
        self.settings = Settings()
        self.env: dict[str, str] = {}
        self.clock = clock
        self.lifetime = lifetime
        self.issued = 0
        self.refreshes = 0
        self.file_keeps = False  # credentials_for hands back the same credentials (file cache)
        self.fail: StsdashError | None = None
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()
        self.current: Credentials | None = None

    def credentials_for(self, name: str, *, code_provider=None) -> Credentials:
        self.gate.wait(10)
        if self.fail is not None:
            raise self.fail
        with self.lock:
            if self.file_keeps and self.current is not None:
                return self.current
            self.issued += 1
            self.current = Credentials(f"ASIAFAKE{self.issued:04d}", "FAKE", "FAKE-TOKEN",
                                       self.clock() + self.lifetime)
            return self.current

    def refresh(self, names, *, code_provider, on_result=None):
        self.refreshes += 1
        self.file_keeps = False
        return [RefreshResult(names[0], True, None, None, None, None)]


def served(lifetime: timedelta) -> tuple[ServedCredentials, FakeEngine, Clock]:
    clock = Clock()
    engine = FakeEngine(clock, lifetime)
    return ServedCredentials(engine, "dev", lambda request: None, clock=clock), engine, clock  # type: ignore[arg-type]


def test_hour_long_credentials_are_renewed_16_minutes_ahead(aws_home):
    cache, engine, clock = served(timedelta(hours=1))
    first = cache.get()
    clock.now = T0 + timedelta(minutes=43)  # 17 min left: still served from memory
    assert cache.get() is first and engine.issued == 1
    clock.now = T0 + timedelta(minutes=44, seconds=1)  # under 16 min left: renewed
    assert cache.get().access_key_id == "ASIAFAKE0002"


def test_short_lived_credentials_are_renewed_at_half_their_life(aws_home):
    cache, _engine, clock = served(timedelta(seconds=10))
    first = cache.get()
    clock.now = T0 + timedelta(seconds=4)
    assert cache.get() is first
    clock.now = T0 + timedelta(seconds=5, milliseconds=1)
    assert cache.get() is not first


def test_concurrent_requests_share_one_renewal(aws_home):
    cache, engine, _clock = served(timedelta(hours=1))
    engine.gate.clear()  # hold the first fetch until every thread is waiting
    got: list[Credentials] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get())) for _ in range(20)]
    for thread in threads:
        thread.start()
    engine.gate.set()
    for thread in threads:
        thread.join(10)
    assert len(got) == 20 and engine.issued == 1 and len({c.access_key_id for c in got}) == 1


def test_credentials_the_engine_still_caches_are_refreshed_for_real(aws_home):
    cache, engine, clock = served(timedelta(minutes=20))  # the engine keeps them while > 15 min left
    cache.get()
    engine.file_keeps = True
    clock.now = T0 + timedelta(minutes=11)  # 9 min left, under half the lifetime
    renewed = cache.get()
    assert engine.refreshes == 1 and renewed.access_key_id == "ASIAFAKE0002"


def test_a_failed_renewal_is_reported_and_kept_for_the_status(aws_home):
    cache, engine, clock = served(timedelta(hours=1))
    cache.get()
    engine.fail = StsdashError("profile dev: STS said no")
    clock.now = T0 + timedelta(minutes=50)
    with pytest.raises(StsdashError):
        cache.get()
    assert cache.last_error is not None and "STS said no" in cache.last_error.message
