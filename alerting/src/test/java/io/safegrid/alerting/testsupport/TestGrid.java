package io.safegrid.alerting.testsupport;

import io.safegrid.alerting.routing.AlarmKind;
import io.safegrid.alerting.routing.DevicePlace;
import io.safegrid.alerting.routing.GridLevel;
import io.safegrid.alerting.routing.RecipientGroup;
import io.safegrid.alerting.routing.StaticGridDirectory;
import java.util.List;

/** A small hand-built Dongnan grid for tests (the shipped site is config/dongnan.yaml). */
public final class TestGrid {
  public static final RecipientGroup UNIT = new RecipientGroup("nmxc-b3-u2", "Nanmen New City b3 u2 lead household", GridLevel.UNIT);
  public static final RecipientGroup BUILDING = new RecipientGroup("nmxc-b3", "Nanmen New City building 3 group", GridLevel.BUILDING);
  public static final RecipientGroup COMPOUND = new RecipientGroup("nmxc", "Nanmen New City compound branch", GridLevel.COMPOUND);
  public static final RecipientGroup COMMUNITY = new RecipientGroup("nanmen-community", "Nanmen community committee", GridLevel.COMMUNITY);
  public static final RecipientGroup DUTY = new RecipientGroup("dongnan-duty", "Dongnan sub-district duty officer", GridLevel.SUB_DISTRICT);
  public static final RecipientGroup GAS_CO = RecipientGroup.responder("gas-company", "Nanchong gas company");
  public static final RecipientGroup MARKET = RecipientGroup.responder("market-supervision", "market supervision office");
  public static final RecipientGroup FIRE = RecipientGroup.responder("fire-brigade", "district fire brigade");
  public static final RecipientGroup FLOOD = RecipientGroup.responder("flood-command", "flood control command");
  public static final RecipientGroup MILITIA = RecipientGroup.responder("militia-teams", "militia emergency rescue teams");
  public static final RecipientGroup LEADER = RecipientGroup.responder("dongnan-duty-leader", "sub-district duty leader");
  public static final RecipientGroup BUREAU = RecipientGroup.responder("district-emergency-bureau", "district emergency management bureau");

  private TestGrid() {}

  /** gas-001, gas-002, gas-003 (gas), fire-nmxc-1 (fire) in Nanmen New City b3 u2; gauge-jialing-1 (water) under the community. */
  public static StaticGridDirectory directory() {
    List<RecipientGroup> chain = List.of(UNIT, BUILDING, COMPOUND, COMMUNITY, DUTY);
    String place = "Dongnan / Nanmen community / Nanmen New City / building 3 / unit 2";
    StaticGridDirectory.Builder b = StaticGridDirectory.builder();
    for (String g : List.of("gas-001", "gas-002", "gas-003", "gas-004")) {
      b.device(new DevicePlace(g, AlarmKind.GAS, place, chain));
    }
    return b.device(new DevicePlace("fire-nmxc-1", AlarmKind.FIRE, place, chain))
        .device(new DevicePlace("gauge-jialing-1", AlarmKind.WATER, "Dongnan / Jialing River bank",
            List.of(COMMUNITY, DUTY)))
        .responders(AlarmKind.GAS, List.of(GAS_CO, MARKET))
        .responders(AlarmKind.FIRE, List.of(FIRE))
        .responders(AlarmKind.WATER, List.of(FLOOD, MILITIA))
        .reportUpward(List.of(LEADER, BUREAU))
        .fallbackChain(List.of(DUTY))
        .build();
  }
}
