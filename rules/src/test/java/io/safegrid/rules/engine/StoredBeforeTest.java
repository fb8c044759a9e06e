package io.safegrid.rules.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.rules.Fixture;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * A resend older than the last 32 readings judged and more than 5 minutes late is not judged
 * again when storage says it was stored before with the same value (review6 1 beyond the ring: a
 * cleared gas alarm reopened); a never-stored reading that far behind is still judged; readings
 * that need no verdict never wait for one.
 */
class StoredBeforeTest {

  private static final String GAS = "gas-lel-threshold";
  private static final String ID = "gas-340";
  private static final long MIN = 60_000L;

  /** A verdict the test gives when it chooses, as the store does after its commit. */
  private static final class Verdict implements StoredBefore {
    final List<Consumer<Predicate<Reading>>> waiting = new ArrayList<>();

    @Override
    public void whenKnown(Consumer<Predicate<Reading>> then) {
      waiting.add(then);
    }

    void give(Predicate<Reading> storedBefore) {
      waiting.forEach(w -> w.accept(storedBefore));
      waiting.clear();
    }
  }

  private static List<String> kindsAt(List<AlarmTransition> ts) {
    return ts.stream().map(t -> t.kind() + "@" + (t.timeMillis() - Fixture.T0)).toList();
  }

  /** 60 %LEL at T0 (raised), then 40 normal readings 10 s apart: T0's reading leaves the ring. */
  private static Fixture pastTheRing() {
    Fixture f = Fixture.dongnan().device(ID, DeviceType.GAS_ALARM);
    for (int k = 0; k <= 40; k++) {
      long t = Fixture.T0 + k * 10_000L;
      f.clock.set(t);
      f.engine().onReadings(List.of(Reading.of(ID, "gas_lel", t, k == 0 ? 60.0 : 1.0)), NOTHING_ASKED);
    }
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@0", "CLEAR@10000");
    return f;
  }

  /** A verdict that fails the test when asked: in-order readings never wait. */
  private static final StoredBefore NOTHING_ASKED = then -> {
    throw new AssertionError("an in-order reading waited for storage");
  };

  @Test
  void aResendPastTheRingAndFarBehind_storedBefore_isADuplicate() {
    Fixture f = pastTheRing();
    Verdict v = new Verdict();
    f.clock.set(Fixture.T0 + 20 * MIN);
    Reading resend = Reading.of(ID, "gas_lel", Fixture.T0, 60.0);
    f.engine().onReadings(List.of(resend), v);
    assertThat(v.waiting).hasSize(1);
    long duplicates = f.engine().stats().duplicates();
    v.give(r -> r.equals(resend));
    assertThat(kindsAt(f.of(GAS))).as("the ended alarm is not reopened")
        .containsExactly("RAISE@0", "CLEAR@10000");
    assertThat(f.flags).isEmpty();
    assertThat(f.engine().stats().duplicates()).isEqualTo(duplicates + 1);
  }

  @Test
  void withoutAVerdict_theSameResendReopensTheAlarm_theLimitThisCloses() {
    Fixture f = pastTheRing();
    f.clock.set(Fixture.T0 + 20 * MIN);
    f.engine().onReadings(List.of(Reading.of(ID, "gas_lel", Fixture.T0, 60.0)));
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@0", "CLEAR@10000", "RAISE@1200000");
  }

  @Test
  void aNeverStoredReadingFarBehind_isJudgedOnceStorageHasTold() {
    Fixture f = pastTheRing();
    Verdict v = new Verdict();
    f.clock.set(Fixture.T0 + 20 * MIN);
    f.engine().onReadings(List.of(Reading.of(ID, "gas_lel", Fixture.T0 + 5_000, 70.0)), v);
    assertThat(f.of(GAS)).as("waits for the verdict").hasSize(2);
    f.clock.set(Fixture.T0 + 20 * MIN + 15);
    v.give(r -> false);
    assertThat(kindsAt(f.of(GAS))).as("far behind, never seen: raised on arrival")
        .containsExactly("RAISE@0", "CLEAR@10000", "RAISE@1200015");
  }

  @Test
  void aBacklogWithACurrentReading_judgesTheCurrentAtOnce_andItsOldPartAfterTheVerdict() {
    Fixture f = pastTheRing();
    Verdict v = new Verdict();
    long now = Fixture.T0 + 20 * MIN;
    f.clock.set(now);
    f.engine().onReadings(List.of(Reading.of(ID, "gas_lel", Fixture.T0 + 395_000, 55.0),
        Reading.of(ID, "gas_lel", now, 30.0)), v);
    assertThat(kindsAt(f.of(GAS))).as("the current reading did not wait")
        .containsExactly("RAISE@0", "CLEAR@10000", "RAISE@1200000");
    v.give(r -> false);
    assertThat(kindsAt(f.of(GAS))).as("the old one, late: escalates with its own time")
        .containsExactly("RAISE@0", "CLEAR@10000", "RAISE@1200000", "SEVERITY_CHANGE@395000");
  }
}
