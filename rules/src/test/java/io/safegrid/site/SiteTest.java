package io.safegrid.site;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.safegrid.model.DeviceType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SiteTest {

  static Contact c(String id) {
    return new Contact(id, id + " (placeholder)", "role", "+86-000-0000-0000");
  }

  static Grid grid() {
    Unit u1 = new Unit("p1-b1-u1", "Unit 1", c("p1-b1-u1-lead"));
    Building b1 = new Building("p1-b1", "Building 1", c("p1-b1-leader"), List.of(u1));
    Compound p1 = new Compound("p1", "Compound 1", c("p1-secretary"), List.of(b1));
    Community c1 = new Community("c1", "Community 1", c("c1-duty"), List.of(p1));
    Community c2 = new Community("c2", "Community 2", null, null);
    return new Grid(
        new SubDistrict("sd", "Sub-district", c("sd-officer"), c("sd-leader")), List.of(c1, c2));
  }

  static Device dev(String id, DeviceType t, Place p, Map<String, Double> overrides) {
    return new Device(id, t, p, id, null, "demo-" + id, 60, overrides);
  }

  static final Map<String, Map<String, Object>> RULES =
      Map.of(
          "gas_alarm", Map.of("level1_lel", 25, "level2_lel", 50),
          "river_gauge", Map.of("warning_level_m", 270.80));

  @Test
  void walksFromADeviceUpTheGrid() {
    Site site =
        new Site(
            "t",
            "Test",
            grid(),
            null,
            List.of(
                dev("gas-001", DeviceType.GAS_ALARM, new Place("c2", null, null, null), null),
                dev("fire-u", DeviceType.FIRE_PANEL, new Place("c1", "p1", "p1-b1", "p1-b1-u1"), null)),
            RULES);
    assertThat(site.gridChain("fire-u"))
        .extracting(GridNode::id)
        .containsExactly("p1-b1-u1", "p1-b1", "p1", "c1", "sd");
    assertThat(site.gridChain("gas-001")).extracting(GridNode::id).containsExactly("c2", "sd");
    assertThat(site.gridNode("sd").orElseThrow().contacts())
        .extracting(Contact::id)
        .containsExactly("sd-officer", "sd-leader");
    assertThat(site.device("gas-001")).isPresent();
    assertThat(site.device("gas-999")).isEmpty();
    assertThat(site.devicesOfType(DeviceType.RIVER_GAUGE)).isEmpty();
    assertThat(site.devicesOfType(DeviceType.FIRE_PANEL)).extracting(Device::id).containsExactly("fire-u");
    assertThat(site.contact("p1-b1-u1-lead")).isPresent();
    assertThatThrownBy(() -> site.gridChain("nope")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void deviceOverridesWinOverTheTypeSection() {
    Site site =
        new Site(
            "t",
            "Test",
            grid(),
            null,
            List.of(
                dev("river-a", DeviceType.RIVER_GAUGE, new Place("c1", null, null, null), null),
                dev("river-b", DeviceType.RIVER_GAUGE, new Place("c1", null, null, null),
                    Map.of("warning_level_m", 271.5))),
            RULES);
    assertThat(site.ruleParameters(site.device("river-a").orElseThrow()).number("warning_level_m"))
        .isEqualTo(270.80);
    assertThat(site.ruleParameters(site.device("river-b").orElseThrow()).number("warning_level_m"))
        .isEqualTo(271.5);
    assertThat(site.ruleParameters(DeviceType.GAS_ALARM).number("level2_lel")).isEqualTo(50.0);
    assertThat(site.ruleParameters(DeviceType.FIRE_PANEL).number("heartbeat_s", 60)).isEqualTo(60);
  }

  @Test
  void reportsEveryProblemWithItsPath() {
    assertThatThrownBy(
            () ->
                new Site(
                    "t",
                    "Test",
                    grid(),
                    null,
                    List.of(
                        dev("gas-001", DeviceType.GAS_ALARM, new Place("c1", null, "p1-b1", null), null),
                        dev("gas-002", DeviceType.GAS_ALARM, new Place("c2", "p1", null, null), null),
                        dev("gas-002", DeviceType.GAS_ALARM, new Place("c1", null, null, null), null),
                        dev("gas-003", null, new Place("c1", null, null, null), null)),
                    Map.of("Boat", Map.of(), "combination", Map.of())))
        .isInstanceOfSatisfying(
            SiteValidationException.class,
            e ->
                assertThat(e.problems())
                    .extracting(SiteProblem::path)
                    .containsExactly(
                        "/rules/Boat",
                        "/devices/0/place/building",
                        "/devices/1/place/compound",
                        "/devices/2/id",
                        "/devices/3/type"));
  }

  @Test
  void recipientIdsAreUniqueAcrossGridAndResponders() {
    Responders r =
        new Responders(
            List.of(new Team("c1", "Volunteer team", 48, null)),
            List.of(),
            List.of(new Department("fire", "Fire", null, List.of("gas_alarm", "boats"))));
    assertThatThrownBy(() -> new Site("t", "Test", grid(), r, List.of(), Map.of()))
        .isInstanceOfSatisfying(
            SiteValidationException.class,
            e ->
                assertThat(e.problems())
                    .extracting(SiteProblem::path)
                    .containsExactly(
                        "/responders/volunteer_teams/0/id", "/responders/departments/0/handles/1"));
  }
}
