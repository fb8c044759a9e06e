package io.safegrid.rules.inactivity;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Severity;
import io.safegrid.rules.Fixture;
import org.junit.jupiter.api.Test;

class InactivityTest {

  // gas: heartbeat 60 s x 3 intervals = 180 s timeout
  private static final long TIMEOUT = 180_000;

  @Test
  void silenceLongerThanTheTimeoutRaisesOneOfflineAlarmAndAMessageClearsIt() {
    Fixture f = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM);
    f.at(0, "gas-001", "gas_lel", 1.0);
    assertThat(f.engine().nextDeadline()).isEqualTo(Fixture.T0 + TIMEOUT + 1);
    f.engine().advanceTo(Fixture.T0 + TIMEOUT);
    assertThat(f.out).isEmpty();
    f.engine().advanceTo(Fixture.T0 + TIMEOUT + 1);
    assertThat(f.out).singleElement().satisfies(t -> {
      assertThat(t.ruleId()).isEqualTo("device-offline");
      assertThat(t.kind()).isEqualTo(Kind.RAISE);
      assertThat(t.severity()).isEqualTo(Severity.MINOR);
      assertThat(t.evidence()).containsEntry("last_seen_ms", Fixture.T0)
          .containsEntry("timeout_ms", TIMEOUT);
    });
    // an hour more of silence: still one alarm, not one per missed interval
    for (long t = TIMEOUT; t < 3_600_000; t += 10_000) {
      f.engine().advanceTo(Fixture.T0 + t);
    }
    assertThat(f.out).hasSize(1);
    assertThat(f.engine().nextDeadline()).isEqualTo(Long.MAX_VALUE);

    f.at(3_600_000, "gas-001", "gas_lel", 1.0);
    assertThat(f.out).hasSize(2);
    assertThat(f.out.get(1).kind()).isEqualTo(Kind.CLEAR);
    assertThat(f.engine().nextDeadline()).isEqualTo(Fixture.T0 + 3_600_000 + TIMEOUT + 1);
  }

  @Test
  void aMessageOnTheDeadlineMillisecondWinsWhicheverComesFirst() {
    // deadline first, then the message, on the same millisecond
    Fixture a = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM);
    a.at(0, "gas-001", "gas_lel", 1.0);
    a.engine().advanceTo(Fixture.T0 + TIMEOUT);
    a.at(TIMEOUT, "gas-001", "gas_lel", 1.0);
    a.engine().advanceTo(Fixture.T0 + TIMEOUT + 1);
    assertThat(a.out).isEmpty();

    // message first, then the deadline
    Fixture b = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM);
    b.at(0, "gas-001", "gas_lel", 1.0);
    b.at(TIMEOUT, "gas-001", "gas_lel", 1.0);
    b.engine().advanceTo(Fixture.T0 + TIMEOUT);
    b.engine().advanceTo(Fixture.T0 + TIMEOUT + 1);
    assertThat(b.out).isEmpty();
    // and the device is watched from its new message on
    b.engine().advanceTo(Fixture.T0 + 2 * TIMEOUT + 1);
    assertThat(b.out).singleElement().extracting(t -> t.ruleId()).isEqualTo("device-offline");
  }

  @Test
  void regularReportsKeepTheDeviceOnline() {
    Fixture f = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM);
    for (long t = 0; t < 3_600_000; t += 60_000) {
      f.at(t, "gas-001", "gas_lel", 1.0);
      f.engine().advanceTo(Fixture.T0 + t + 59_999);
    }
    assertThat(f.out).isEmpty();
  }

  @Test
  void aDeviceReportIntervalOverridesTheTypeHeartbeat() {
    Fixture f = Fixture.dongnan().device(new io.safegrid.rules.config.DeviceProfile(
        "gas-nb-1", DeviceType.GAS_ALARM, null, 3_600_000, java.util.Map.of()));
    f.at(0, "gas-nb-1", "gas_lel", 1.0);
    f.engine().advanceTo(Fixture.T0 + 3 * 3_600_000);
    assertThat(f.out).isEmpty();
    f.engine().advanceTo(Fixture.T0 + 3 * 3_600_000 + 1);
    assertThat(f.out).hasSize(1);
  }
}
