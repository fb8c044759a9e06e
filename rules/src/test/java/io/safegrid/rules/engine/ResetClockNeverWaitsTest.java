package io.safegrid.rules.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.rules.Fixture;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * review7 R4: the first reading after an RTC reset (its time years behind) used to wait for the
 * store's commit before it could raise ({@link Outcome#DEFERRED} came before the far-behind
 * branch), contrary to docs/rules.md ("raises at once on arrival whatever the debounce"); with
 * the database slow it waited seconds. No resend arrives more than {@link
 * RuleEngine#CLOCK_RESET_MILLIS} (30 days) late, so such a reading asks the store nothing: it
 * raises at once even while the store never answers. A reading that may be an old resend (5
 * minutes to 30 days behind) still waits (StoredBeforeTest).
 */
class ResetClockNeverWaitsTest {

  private static final String GAS = "gas-lel-threshold";
  private static final String ID = "gas-341";
  /** 2000-01-01T00:00:00Z: where a unit's RTC starts after it lost power. */
  private static final long Y2000 = 946_684_800_000L;

  /** The store blocked: its verdict never comes. */
  private static final StoredBefore BLOCKED = then -> { };

  private static List<String> kindsAt(List<AlarmTransition> ts) {
    return ts.stream().map(t -> t.kind() + "@" + (t.timeMillis() - Fixture.T0)).toList();
  }

  /** 60 %LEL at T0 (raised), then 1 %LEL (cleared), then the unit runs on for 10 minutes. */
  private static Fixture raisedAndCleared() {
    Fixture f = Fixture.dongnan().device(ID, DeviceType.GAS_ALARM);
    for (int k = 0; k <= 60; k++) {
      long t = Fixture.T0 + k * 10_000L;
      f.clock.set(t);
      f.engine().onReadings(List.of(Reading.of(ID, "gas_lel", t, k == 0 ? 60.0 : 1.0)));
    }
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@0", "CLEAR@10000");
    return f;
  }

  @Test
  void theFirstLeakAfterAnRtcResetRaisesAtOnceWhileTheStoreIsBlocked() {
    Fixture f = raisedAndCleared();
    long now = Fixture.T0 + 11 * 60_000L;
    f.clock.set(now);
    f.engine().onReadings(List.of(Reading.of(ID, "gas_lel", Y2000 + 5_000, 70.0)), BLOCKED);
    assertThat(kindsAt(f.of(GAS))).as("raised on arrival, not waiting for the store")
        .containsExactly("RAISE@0", "CLEAR@10000", "RAISE@" + (now - Fixture.T0));
  }

  @Test
  void aSecondResetSendingTheSameTimeAndValueAsTheFirstIsNoResend() {
    Fixture f = raisedAndCleared();
    long now = Fixture.T0 + 11 * 60_000L;
    // the first reset: boot reading, a leak one minute later (raised), then normal again
    long[] sent = {Y2000 + 1_000, Y2000 + 61_000, Y2000 + 121_000};
    double[] values = {1.0, 70.0, 1.0};
    for (int k = 0; k < 3; k++) {
      f.clock.set(now + k * 60_000L);
      f.engine().onReadings(List.of(Reading.of(ID, "gas_lel", sent[k], values[k])), BLOCKED);
    }
    for (int k = 3; k < 43; k++) {
      f.clock.set(now + k * 60_000L);
      f.engine().onReadings(List.of(Reading.of(ID, "gas_lel", Y2000 + 1_000 + k * 60_000L, 1.0)), BLOCKED);
    }
    int before = f.of(GAS).size();
    // the unit loses power again and its clock restarts at 2000 once more: one minute after boot
    // it reads 70 %LEL again. The store does hold (2000-01-01T00:01:01Z, 70.0), from the first
    // reset: asked, it would call this real leak a resend
    long later = now + 50 * 60_000L;
    f.clock.set(later);
    Reading leak = Reading.of(ID, "gas_lel", Y2000 + 61_000, 70.0);
    f.engine().onReadings(List.of(leak), then -> then.accept(r -> r.equals(leak)));
    assertThat(kindsAt(f.of(GAS)).subList(before, f.of(GAS).size())).as("raised at once")
        .containsExactly("RAISE@" + (later - Fixture.T0));
  }
}
