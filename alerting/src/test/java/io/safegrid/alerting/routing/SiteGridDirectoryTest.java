package io.safegrid.alerting.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.DeviceType;
import io.safegrid.model.Severity;
import io.safegrid.site.Building;
import io.safegrid.site.Community;
import io.safegrid.site.Compound;
import io.safegrid.site.Contact;
import io.safegrid.site.Department;
import io.safegrid.site.Device;
import io.safegrid.site.Grid;
import io.safegrid.site.Place;
import io.safegrid.site.Responders;
import io.safegrid.site.Site;
import io.safegrid.site.SubDistrict;
import io.safegrid.site.Team;
import io.safegrid.site.Unit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SiteGridDirectoryTest {
  private static Contact c(String id) {
    return new Contact(id, id + " (placeholder)", "role", null);
  }

  static Site site() {
    Unit unit = new Unit("nanmen-1-b1-u1", "Unit 1", c("nanmen-1-b1-u1-lead"));
    Building b = new Building("nanmen-1-b1", "Building 1", c("nanmen-1-b1-leader"), List.of(unit));
    Compound cp = new Compound("nanmen-1", "Nanmen New City Zone 1", c("nanmen-1-secretary"), List.of(b));
    Community cm = new Community("nanmenba", "Nanmenba Community", c("nanmenba-duty"), List.of(cp));
    Grid grid = new Grid(new SubDistrict("dongnan", "Dongnan", c("dongnan-duty-officer"), c("dongnan-duty-leader")),
        List.of(cm));
    Responders r = new Responders(List.of(),
        List.of(new Team("militia-1", "Militia 1", 15, c("militia-1-captain")),
            new Team("militia-2", "Militia 2", 14, c("militia-2-captain"))),
        List.of(new Department("district-fire-brigade", "Fire brigade", c("fb-desk"), List.of("gas_alarm", "fire_panel")),
            new Department("dongnan-market-supervision", "Market supervision", c("ms-desk"), List.of("gas_alarm")),
            new Department("gas-company", "Gas company", c("gc-desk"), List.of("gas_alarm")),
            new Department("flood-command", "Flood command", c("fc-desk"), List.of("river_gauge")),
            new Department("district-emergency-management", "Emergency bureau", c("em-desk"),
                List.of("gas_alarm", "fire_panel", "river_gauge"))));
    List<Device> devices = List.of(
        new Device("fire-nanmen-1", DeviceType.FIRE_PANEL, new Place("nanmenba", "nanmen-1", "nanmen-1-b1", "nanmen-1-b1-u1"),
            "Panel", "compound", "demo-fire-nanmen-1", 60, Map.of()),
        new Device("gas-001", DeviceType.GAS_ALARM, new Place("nanmenba", null, null, null), "Restaurant kitchen",
            "restaurant", "demo-gas-001", 60, Map.of()),
        new Device("gauge-jialing-1", DeviceType.RIVER_GAUGE, new Place("nanmenba", null, null, null), "Jialing gauge",
            "river", "demo-gauge-jialing-1", 300, Map.of()));
    return new Site("dongnan", "Dongnan", grid, r, devices, Map.of());
  }

  private final SiteGridDirectory dir = new SiteGridDirectory(site());

  @Test
  void aFlatsPanelClimbsUnitBuildingCompoundCommunityDutyOfficer() {
    DevicePlace p = dir.place("fire-nanmen-1").orElseThrow();
    assertThat(p.kind()).isEqualTo(AlarmKind.FIRE);
    assertThat(p.chain()).extracting(RecipientGroup::id).containsExactly(
        "nanmen-1-b1-u1", "nanmen-1-b1", "nanmen-1", "nanmenba", "dongnan-duty-officer");
    assertThat(p.chain()).extracting(RecipientGroup::level).containsExactly(
        GridLevel.UNIT, GridLevel.BUILDING, GridLevel.COMPOUND, GridLevel.COMMUNITY, GridLevel.SUB_DISTRICT);
    assertThat(p.place()).startsWith("Nanmenba Community / Nanmen New City Zone 1 / Building 1 / Unit 1");
    Route crit = new Router(dir, null).route("fire-nanmen-1", "fire-panel-fire", Severity.CRITICAL);
    assertThat(crit.chain().get(crit.startIndex()).id()).isEqualTo("nanmenba");
    assertThat(crit.responders()).extracting(RecipientGroup::id).containsExactly("district-fire-brigade");
    assertThat(crit.reportUpward()).extracting(RecipientGroup::id)
        .containsExactly("dongnan-duty-leader", "district-emergency-management");
  }

  @Test
  void aRestaurantUnderTheCommunityStartsThereWhateverTheSeverityAndGasGoesToTheGasCompanyAndMarketSupervision() {
    Router router = new Router(dir, null);
    Route warn = router.route("gas-001", "gas-lel-threshold", Severity.WARNING);
    assertThat(warn.chain()).extracting(RecipientGroup::id).containsExactly("nanmenba", "dongnan-duty-officer");
    assertThat(warn.startIndex()).isZero();
    assertThat(warn.reportUpward()).isEmpty();
    assertThat(warn.responders()).extracting(RecipientGroup::id)
        .containsExactly("district-fire-brigade", "dongnan-market-supervision", "gas-company");
  }

  @Test
  void waterGoesToFloodCommandAndTheMilitiaTeams() {
    assertThat(dir.responders(AlarmKind.WATER)).extracting(RecipientGroup::id)
        .containsExactly("flood-command", "militia-1", "militia-2");
  }

  @Test
  void unknownDevicesGoToTheDutyOfficer() {
    assertThat(dir.place("safegrid-gateway")).isEmpty();
    Route r = new Router(dir, null).route("safegrid-gateway", "channel-dead:mqtt", Severity.MAJOR);
    assertThat(r.chain()).extracting(RecipientGroup::id).containsExactly("dongnan-duty-officer");
    assertThat(r.kind()).isEqualTo(AlarmKind.SYSTEM);
    assertThat(r.responders()).isEmpty();
  }
}
