"""The time across resets without a DS3231: saved in the scratch words, restored at boot
from the RTC's count since its 2021-01-01 restart."""

from supervisetools import T0, FakeClock, FakeScratch

from dispenser.core import timekeep


def test_a_reset_rtc_gets_the_saved_time_plus_what_it_counted_since():
    scratch = FakeScratch()
    timekeep.save(scratch, T0)
    assert timekeep.saved(scratch) == T0
    clock = FakeClock(timekeep.RTC_RESET_EPOCH + 42)  # 42 s after the reset
    assert not clock.is_set()
    assert timekeep.restore(clock, scratch) == T0 + 42
    assert clock.now() == T0 + 42


def test_after_a_power_loss_the_time_stays_unknown():
    clock = FakeClock(timekeep.RTC_RESET_EPOCH + 3)
    assert timekeep.restore(clock, FakeScratch()) is None  # scratch words read zero
    assert timekeep.restore(clock, None) is None  # a board without scratch words
    assert clock.now() is None


def test_a_valid_clock_is_left_alone():
    scratch = FakeScratch()
    timekeep.save(scratch, T0 - 500)
    clock = FakeClock(T0)  # a DS3231, or a soft reset that kept the RTC
    assert timekeep.restore(clock, scratch) is None and clock.now() == T0


def test_a_damaged_save_or_an_odd_rtc_restores_nothing():
    scratch = FakeScratch()
    timekeep.save(scratch, T0)
    scratch.words[0] += 1  # the check word no longer matches
    assert timekeep.restore(FakeClock(timekeep.RTC_RESET_EPOCH), scratch) is None
    timekeep.save(scratch, T0)
    assert timekeep.restore(FakeClock(None), scratch) is None  # a clock without a counter
    before_epoch = FakeClock(timekeep.RTC_RESET_EPOCH - 1)
    assert timekeep.restore(before_epoch, scratch) is None
    timekeep.save(scratch, None)  # the time unknown: nothing new kept
    assert timekeep.saved(scratch) == T0


def test_the_saved_words_are_small_integers():
    # Seconds since 2021 stay under 2^30 (small ints on a Pico) until 2055.
    scratch = FakeScratch()
    timekeep.save(scratch, 2682374400)  # 2055-01-01
    assert scratch.words[0] < 1 << 30 and scratch.words[1] < 1 << 31
