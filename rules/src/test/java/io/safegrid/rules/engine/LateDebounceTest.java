package io.safegrid.rules.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.rules.Fixture;
import io.safegrid.rules.config.DevicePlace;
import io.safegrid.rules.config.DeviceProfile;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Late readings are judged with the site's debounce and hysteresis, as in-order ones (review6
 * 5b): a one-sample spike in a cached backlog raises no more than the same spike in order.
 */
class LateDebounceTest {

  private static final String GAS = "gas-lel-threshold";
  private static final String ID = "gas-320";

  private static Fixture debounced(int seconds) {
    return Fixture.dongnan().device(new DeviceProfile(ID, DeviceType.GAS_ALARM,
        DevicePlace.NOWHERE, 0, Map.of("debounce_s", seconds)));
  }

  private static Reading r(long offset, double lel) {
    return Reading.of(ID, "gas_lel", Fixture.T0 + offset, lel);
  }

  private static List<String> kindsAt(List<AlarmTransition> ts) {
    return ts.stream().map(t -> t.kind() + "@" + (t.timeMillis() - Fixture.T0)).toList();
  }

  @Test
  void oneSampleSpikeInALateBacklog_isFilteredByTheDebounce() {
    Fixture f = debounced(30);
    f.clock.set(Fixture.T0 + 130_000);
    f.engine().onReadings(List.of(r(130_000, 1.0)));
    f.engine().onReadings(List.of(r(124_000, 1.0), r(125_000, 70.0), r(126_000, 1.0)));
    f.engine().advanceTo(Fixture.T0 + 200_000);
    assertThat(f.of(GAS)).isEmpty();
    assertThat(f.flags).extracting(fl -> fl.kind().reason()).containsExactly("late_reading");
    assertThat(f.flags.get(0).detail()).contains("less than the debounce");
  }

  @Test
  void lateSpikeAsTheLastOfItsBacklog_isFilteredToo() {
    Fixture f = debounced(30);
    f.clock.set(Fixture.T0 + 130_000);
    f.engine().onReadings(List.of(r(130_000, 1.0)));
    f.engine().onReadings(List.of(r(124_000, 1.0), r(125_000, 70.0)));
    f.engine().advanceTo(Fixture.T0 + 200_000);
    assertThat(f.of(GAS)).isEmpty();
  }

  @Test
  void lateReadingsThatHoldTheDebounce_raiseAtTheConfirmingReading() {
    Fixture f = debounced(30);
    f.clock.set(Fixture.T0 + 130_000);
    f.engine().onReadings(List.of(r(130_000, 1.0)));
    // 60 %LEL held from 60 s to 100 s by the device's own times, in two late messages
    f.engine().onReadings(List.of(r(50_000, 1.0), r(60_000, 60.0), r(70_000, 60.0)));
    assertThat(f.of(GAS)).isEmpty();
    f.engine().onReadings(List.of(r(80_000, 60.0), r(90_000, 60.0), r(100_000, 60.0)));
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@90000");
    assertThat(f.of(GAS).get(0).evidence()).containsEntry("late", true)
        .containsEntry("held_since_ms", Fixture.T0 + 60_000).containsEntry("debounce_ms", 30_000L);
  }

  @Test
  void hysteresisHoldsALateRun_butAFallPastItEndsTheRun() {
    Fixture f = debounced(30);
    f.clock.set(Fixture.T0 + 130_000);
    f.engine().onReadings(List.of(r(130_000, 1.0)));
    // level 1 at 25 %LEL, hysteresis 2: 23.5 holds the run, 22.0 ends it
    f.engine().onReadings(List.of(r(10_000, 26.0), r(20_000, 23.5), r(40_000, 26.0)));
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@40000");
    Fixture g = debounced(30);
    g.clock.set(Fixture.T0 + 130_000);
    g.engine().onReadings(List.of(r(130_000, 1.0)));
    g.engine().onReadings(List.of(r(10_000, 26.0), r(20_000, 22.0), r(40_000, 26.0)));
    assertThat(g.of(GAS)).isEmpty();
  }

  @Test
  void withoutDebounce_aLateSpikeStillRaisesAtOnce() {
    Fixture f = Fixture.dongnan().device(ID, DeviceType.GAS_ALARM);
    f.clock.set(Fixture.T0 + 130_000);
    f.engine().onReadings(List.of(r(130_000, 1.0)));
    f.engine().onReadings(List.of(r(124_000, 1.0), r(125_000, 70.0), r(126_000, 1.0)));
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@125000");
  }

  /**
   * review7 R3: a known normal reading between two late spikes ends the run: the spikes are two
   * spikes, not a level that held (R3's own example: late 70s at 10:00:00 and 10:00:20, the
   * in-order 0 at 10:00:05 between them).
   */
  @Test
  void twoLateSpikesWithANormalReadingBetween_raiseNothing() {
    Fixture f = debounced(10);
    f.clock.set(Fixture.T0 + 3_000);
    f.engine().onReadings(List.of(r(2_000, 1.0)));
    f.engine().onReadings(List.of(r(0, 70.0))); // late: pending
    f.clock.set(Fixture.T0 + 6_000);
    f.engine().onReadings(List.of(r(5_000, 0.0)));
    f.clock.set(Fixture.T0 + 26_000);
    f.engine().onReadings(List.of(r(25_000, 1.0)));
    f.engine().onReadings(List.of(r(20_000, 70.0))); // late again, 20 s after the first
    f.engine().advanceTo(Fixture.T0 + 100_000);
    assertThat(f.of(GAS)).isEmpty();
  }

  /** review7 R3: two isolated late spikes hours apart are no leak that held for hours. */
  @Test
  void twoIsolatedLateSpikesHoursApart_raiseNothing() {
    Fixture f = debounced(10);
    f.clock.set(Fixture.T0 + 10_000);
    f.engine().onReadings(List.of(r(10_000, 1.0)));
    f.engine().onReadings(List.of(r(5_000, 70.0)));
    long fourHours = 4 * 3_600_000L;
    f.clock.set(Fixture.T0 + fourHours + 10_000);
    f.engine().onReadings(List.of(r(fourHours + 10_000, 1.0)));
    f.engine().onReadings(List.of(r(fourHours + 5_000, 70.0)));
    f.engine().advanceTo(Fixture.T0 + fourHours + 100_000);
    assertThat(f.of(GAS)).isEmpty();
    assertThat(f.flags).extracting(fl -> fl.kind().reason()).containsOnly("late_reading");
  }

  /**
   * review7 R18: a cached backlog uploaded newest-first, one reading per message (a LIFO cache,
   * reordered CoAP datagrams): the run grows backwards and raises once it spans the debounce.
   */
  @Test
  void aBacklogUploadedNewestFirst_raisesOnce() {
    Fixture f = debounced(10);
    f.clock.set(Fixture.T0 + 61_000);
    f.engine().onReadings(List.of(r(60_000, 0.0))); // the leak ended before the link came back
    for (long t = 50_000; t >= 0; t -= 10_000) {
      f.engine().onReadings(List.of(r(t, 70.0)));
    }
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@50000");
    assertThat(f.of(GAS).get(0).severity()).isEqualTo(io.safegrid.model.Severity.CRITICAL);
    assertThat(f.of(GAS).get(0).evidence()).containsEntry("late", true)
        .containsEntry("held_since_ms", Fixture.T0 + 40_000)
        .containsEntry("held_until_ms", Fixture.T0 + 50_000)
        .containsEntry("debounce_ms", 10_000L);
  }

  /** review7 R3: a run at level 1 does not confirm a later level 2 reading at once. */
  @Test
  void aLevelOneRun_confirmsLevelOneOnly() {
    Fixture f = debounced(30);
    f.clock.set(Fixture.T0 + 130_000);
    f.engine().onReadings(List.of(r(130_000, 1.0)));
    f.engine().onReadings(List.of(r(10_000, 30.0), r(20_000, 30.0), r(30_000, 30.0), r(40_000, 60.0)));
    assertThat(f.of(GAS)).singleElement().satisfies(t -> {
      assertThat(t.severity()).isEqualTo(io.safegrid.model.Severity.MAJOR);
      assertThat(t.timeMillis()).isEqualTo(Fixture.T0 + 40_000);
    });
  }

  /** review7 R3, the other order: both late spikes arrive after the normal readings around them. */
  @Test
  void twoLateSpikesArrivingAfterTheNormalReadingBetweenThem_raiseNothing() {
    Fixture f = debounced(10);
    f.clock.set(Fixture.T0 + 26_000);
    f.engine().onReadings(List.of(r(5_000, 0.0)));
    f.engine().onReadings(List.of(r(25_000, 0.0)));
    f.engine().onReadings(List.of(r(0, 70.0)));
    f.engine().onReadings(List.of(r(20_000, 70.0)));
    f.engine().advanceTo(Fixture.T0 + 100_000);
    assertThat(f.of(GAS)).isEmpty();
  }

  /** 30 records a minute apart, two hours before T0 + 2 h, 1.0 %LEL but one 70 in the middle. */
  private static List<Reading> oldBacklogWithOneSpike() {
    List<Reading> b = new java.util.ArrayList<>();
    for (int i = 0; i < 30; i++) {
      b.add(r(i * 60_000L, i == 15 ? 70.0 : 1.0));
    }
    return b;
  }

  /**
   * newcomer8 N2: a backlog far behind the gateway clock (2 h) that spans its own minutes is no
   * clock that went back: its one-sample spike is filtered by the debounce, as in order, whether
   * the store's verdict is asked for (the gateway's path) or not.
   */
  @Test
  void aOneSampleSpikeInAnOldMultiRecordBacklog_isFilteredByTheDebounce() {
    long twoHours = 2 * 3_600_000L;
    for (boolean askStore : new boolean[] {false, true}) {
      Fixture f = debounced(30);
      f.clock.set(Fixture.T0 + twoHours);
      f.engine().onReadings(List.of(r(twoHours, 1.0)));
      if (askStore) {
        f.engine().onReadings(oldBacklogWithOneSpike(), then -> then.accept(x -> false));
      } else {
        f.engine().onReadings(oldBacklogWithOneSpike());
      }
      f.engine().advanceTo(Fixture.T0 + twoHours + 600_000);
      assertThat(f.of(GAS)).as("store asked: %s", askStore).isEmpty();
    }
  }

  /** newcomer8 N2: without a debounce the old backlog's spike raises with its own time, not now. */
  @Test
  void withoutDebounce_anOldBacklogsSpikeRaisesWithItsOwnTime() {
    long twoHours = 2 * 3_600_000L;
    Fixture f = Fixture.dongnan().device(ID, DeviceType.GAS_ALARM);
    f.clock.set(Fixture.T0 + twoHours);
    f.engine().onReadings(List.of(r(twoHours, 1.0)));
    f.engine().onReadings(oldBacklogWithOneSpike());
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@900000");
    assertThat(f.of(GAS).get(0).evidence()).containsEntry("late", true);
  }
}
