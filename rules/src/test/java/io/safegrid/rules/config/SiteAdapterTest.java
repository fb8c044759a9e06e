package io.safegrid.rules.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.rules.engine.FlagSink;
import io.safegrid.rules.engine.RuleEngine;
import io.safegrid.site.Community;
import io.safegrid.site.Contact;
import io.safegrid.site.Device;
import io.safegrid.site.Grid;
import io.safegrid.site.Place;
import io.safegrid.site.Site;
import io.safegrid.site.SubDistrict;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SiteAdapterTest {

  @Test
  void aSitesRulesSectionAndDeviceOverridesDriveTheEngine() {
    Site site = site(
        Map.of("river_gauge", Map.of("warning_level_m", 270.80, "clear_hysteresis_m", 0.10)),
        List.of(
            new Device("river-jl-1", DeviceType.RIVER_GAUGE, new Place("c1", null, null, null),
                "Jialing gauge", "river", "demo-river-jl-1", 300, Map.of()),
            new Device("river-xi-1", DeviceType.RIVER_GAUGE, new Place("c1", null, null, null),
                "Xi gauge", "river", "demo-river-xi-1", 300, Map.of("warning_level_m", 271.50))));
    RuleBook book = RuleBook.fromSite(site);
    DeviceDirectory dir = DeviceDirectory.of(site);
    assertThat(dir.find("river-xi-1")).hasValueSatisfying(p -> {
      assertThat(p.reportIntervalMillis()).isEqualTo(300_000);
      assertThat(p.place().community()).isEqualTo("c1");
    });
    List<AlarmTransition> out = new ArrayList<>();
    long t0 = 1_764_403_200_000L;
    RuleEngine e = new RuleEngine(book, dir, () -> t0, out::add, FlagSink.ignore());
    e.onReading(Reading.of("river-jl-1", "water_level_m", t0, 271.0));
    e.onReading(Reading.of("river-xi-1", "water_level_m", t0, 271.0));
    assertThat(out).extracting(AlarmTransition::deviceId).containsExactly("river-jl-1");
  }

  private static Site site(Map<String, Map<String, Object>> rules, List<Device> devices) {
    Grid grid = new Grid(
        new SubDistrict("dongnan", "Dongnan",
            new Contact("duty-officer", "Duty officer (placeholder)", "duty_officer", null),
            new Contact("duty-leader", "Duty leader (placeholder)", "duty_leader", null)),
        List.of(new Community("c1", "Community 1",
            new Contact("c1-duty", "Community duty (placeholder)", "community_duty", null),
            List.of())));
    return new Site("test", "Test site", grid, null, devices, rules);
  }
}
