package io.safegrid.rules.event;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.DeviceEvent;
import io.safegrid.model.DeviceType;
import io.safegrid.rules.Fixture;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * newcomer7 F25: while a panel's fire alarm is open, a fire in another zone of the same panel is
 * the most important news about that fire (it is spreading). The engine repeats the open alarm
 * (a RAISE on it: the ledger counts it, records "repeated" and tells the live page) with the new
 * zone and every zone in the evidence; the same zone again stays one alarm and changes nothing.
 */
class FireSpreadTest {

  private static final String PANEL = "fire-school-4";
  private static final String FIRE = "fire-panel-fire";

  private static Fixture panel() {
    return Fixture.dongnan().device(PANEL, DeviceType.FIRE_PANEL);
  }

  private static void fire(Fixture f, long offset, Integer zone, Integer point, String text) {
    f.clock.set(Math.max(f.clock.get(), Fixture.T0 + offset));
    f.engine().onEvent(new DeviceEvent(PANEL, Fixture.T0 + offset, "fire", zone, point, text));
  }

  private static List<String> kinds(Fixture f) {
    return f.of(FIRE).stream().map(t -> t.kind() + "@" + (t.timeMillis() - Fixture.T0)).toList();
  }

  @Test
  void aFireInAnotherZone_repeatsTheOpenAlarmWithTheNewZoneAndAllZones() {
    Fixture f = panel();
    fire(f, 0, 1, 1, "lab");
    fire(f, 30_000, 2, 7, "library");
    assertThat(kinds(f)).containsExactly("RAISE@0", "RAISE@30000");
    AlarmTransition spread = f.of(FIRE).get(1);
    assertThat(spread.message()).isEqualTo("fire alarm zone 2 point 7 (library); zones in alarm: 1, 2");
    assertThat(spread.evidence()).containsEntry("zone", 2).containsEntry("point", 7)
        .containsEntry("text", "library").containsEntry("new_zone", 2)
        .containsEntry("zones", List.of(1, 2));
    fire(f, 60_000, 5, 9, "3rd floor dormitory");
    assertThat(f.of(FIRE).get(2).evidence()).containsEntry("zones", List.of(1, 2, 5));
  }

  @Test
  void aFireAgainInAZoneAlreadyReported_changesNothing() {
    Fixture f = panel();
    fire(f, 0, 1, 1, "lab");
    fire(f, 10_000, 1, 2, "lab corridor"); // another detector of zone 1
    fire(f, 20_000, 2, 7, "library");
    fire(f, 30_000, 1, 1, "lab");
    fire(f, 40_000, null, null, null); // no zone: no news
    assertThat(kinds(f)).containsExactly("RAISE@0", "RAISE@20000");
  }

  @Test
  void afterAReset_theNextFireOpensANewOccurrenceWithItsOwnZones() {
    Fixture f = panel();
    fire(f, 0, 1, 1, "lab");
    fire(f, 10_000, 2, 7, "library");
    f.event(20_000, PANEL, "reset");
    fire(f, 30_000, 2, 7, "library");
    fire(f, 40_000, 1, 1, "lab");
    assertThat(f.of(FIRE)).extracting(AlarmTransition::kind)
        .containsExactly(Kind.RAISE, Kind.RAISE, Kind.CLEAR, Kind.RAISE, Kind.RAISE);
    assertThat(f.of(FIRE).get(4).evidence()).containsEntry("zones", List.of(2, 1));
  }

  @Test
  void aLateFireFromBeforeTheReset_isNoSpreadOfTheNewFire() {
    Fixture f = panel();
    fire(f, 0, 1, 1, "lab");
    f.event(20_000, PANEL, "reset");
    fire(f, 30_000, 2, 7, "library");
    fire(f, 10_000, 3, 1, "gym"); // older than the reset: the first occurrence's history
    assertThat(kinds(f)).containsExactly("RAISE@0", "CLEAR@20000", "RAISE@30000");
  }

  @Test
  void aLateResetFromBeforeTheSpread_neverClearsIt() {
    Fixture f = panel();
    fire(f, 0, 1, 1, "lab");
    fire(f, 20_000, 2, 7, "library");
    f.clock.set(Fixture.T0 + 21_000);
    f.engine().onEvent(new DeviceEvent(PANEL, Fixture.T0 + 10_000, "reset", null, null, null));
    assertThat(kinds(f)).containsExactly("RAISE@0", "RAISE@20000");
  }

  @Test
  void aPanelWithItsClockAhead_spreadsOnArrivalToo() {
    Fixture f = panel();
    long ahead = 8 * 3_600_000L; // Beijing time written as Z
    f.clock.set(Fixture.T0);
    f.engine().onEvent(new DeviceEvent(PANEL, Fixture.T0 + ahead, "fire", 1, 1, "lab"));
    f.clock.set(Fixture.T0 + 5_000);
    f.engine().onEvent(new DeviceEvent(PANEL, Fixture.T0 + ahead + 5_000, "fire", 4, 2, "hall"));
    assertThat(kinds(f)).containsExactly("RAISE@0", "RAISE@5000");
    assertThat(f.of(FIRE).get(1).evidence()).containsEntry("zones", List.of(1, 4))
        .containsEntry("device_clock", "ahead");
  }

  /** A reset judged with the clock ahead closed the alarm at its arrival, not 8 h from now. */
  @Test
  void afterAnAheadResetAndNtp_aNewFireStillSpreads() {
    Fixture f = panel();
    long ahead = 8 * 3_600_000L;
    f.clock.set(Fixture.T0);
    f.engine().onEvent(new DeviceEvent(PANEL, Fixture.T0 + ahead, "fire", 1, 1, "lab"));
    f.clock.set(Fixture.T0 + 1_000);
    f.engine().onEvent(new DeviceEvent(PANEL, Fixture.T0 + ahead + 1_000, "reset", null, null, null));
    fire(f, 60_000, 1, 1, "lab"); // NTP put the panel's clock right
    fire(f, 70_000, 2, 7, "library");
    assertThat(kinds(f)).containsExactly("RAISE@0", "CLEAR@1000", "RAISE@60000", "RAISE@70000");
  }
  /**
   * review8 R8-10: a panel 8 h ahead (Beijing time as Z): fire zone 1, reset, fire zone 1 again
   * (a new occurrence); then a delayed datagram of the FIRST occurrence, "fire zone 2" with a
   * device time between the first fire and the reset. It belongs to the occurrence that was
   * reset: no spread of the new fire (before: a spread, the brigade called again). A zone 2 fire
   * after the new one's start still spreads, also when it arrives after a repeat of zone 1.
   */
  @Test
  void aPanelWithItsClockAhead_aStaleEventOfTheResetOccurrenceIsNoSpread() {
    Fixture f = panel();
    long a = Fixture.T0 + 8 * 3_600_000L;
    ahead(f, 0, a, "fire", 1);
    ahead(f, 20_000, a + 20_000, "reset", null);
    ahead(f, 40_000, a + 40_000, "fire", 1);
    ahead(f, 50_000, a + 10_000, "fire", 2); // delayed: sent before the reset
    assertThat(kinds(f)).containsExactly("RAISE@0", "CLEAR@20000", "RAISE@40000");
    ahead(f, 60_000, a + 55_000, "fire", 1); // zone 1 again: nothing
    ahead(f, 70_000, a + 50_000, "fire", 2); // reordered, but after this occurrence began
    assertThat(kinds(f)).containsExactly("RAISE@0", "CLEAR@20000", "RAISE@40000", "RAISE@70000");
    assertThat(f.of(FIRE).get(3).evidence()).containsEntry("zones", List.of(1, 2));
  }

  private static void ahead(Fixture f, long arrival, long deviceTime, String event, Integer zone) {
    f.clock.set(Fixture.T0 + arrival);
    f.engine().onEvent(new DeviceEvent(PANEL, deviceTime, event, zone, zone == null ? null : 1, null));
  }

  /**
   * review8 R8-4: only a fire spreads. A technician shielding points zone by zone (or a loop fault
   * showing in many zones) on an open shield alarm changes nothing: no repeat, which the ledger
   * would tell everyone as a "spread" and take as a lapsed acknowledgement.
   */
  @Test
  void shieldedPointsInFurtherZones_areNoSpread() {
    Fixture f = panel();
    for (int zone = 3; zone <= 6; zone++) {
      f.clock.set(Fixture.T0 + zone * 10_000L);
      f.engine().onEvent(new DeviceEvent(PANEL, Fixture.T0 + zone * 10_000L, "shield", zone, 1, "maintenance"));
    }
    assertThat(f.of("fire-panel-shield")).extracting(t -> t.kind()).containsExactly(Kind.RAISE);
    assertThat(f.of("fire-panel-shield").get(0).evidence()).doesNotContainKey("new_zone");
  }
}
