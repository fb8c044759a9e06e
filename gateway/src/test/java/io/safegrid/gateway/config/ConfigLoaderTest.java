package io.safegrid.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.safegrid.model.DeviceType;
import io.safegrid.rules.config.RuleBook;
import io.safegrid.site.Device;
import io.safegrid.site.GridLevel;
import io.safegrid.site.GridNode;
import io.safegrid.site.Site;
import io.safegrid.site.Team;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  /** The shipped file; surefire runs in the gateway module directory. */
  static final Path SHIPPED = Path.of("../config/dongnan.yaml");

  private final ConfigLoader loader = new ConfigLoader();

  @TempDir Path dir;

  @Test
  void shippedDongnanSiteLoads() {
    LoadedConfig c = loader.load(SHIPPED, Map.of());
    Site site = c.site();

    List<Device> gas = site.devicesOfType(DeviceType.GAS_ALARM);
    assertThat(gas).hasSize(117);
    assertThat(gas)
        .extracting(Device::id)
        .containsExactlyElementsOf(
            IntStream.rangeClosed(1, 117).mapToObj(i -> String.format("gas-%03d", i)).toList());
    assertThat(gas).allSatisfy(d -> assertThat(d.place().compound()).isNull());
    assertThat(site.devices()).allSatisfy(d -> assertThat(d.secret()).isEqualTo("demo-" + d.id()));

    assertThat(site.gridNode("nanmen-1").orElseThrow().name()).startsWith("Nanmen New City Zone 1");
    for (String compound :
        List.of(
            "nanmen-1", "nanmen-2", "nanmen-3", "nanmen-4", "nanmen-5", "nanmen-6",
            "languang-xiangjiang", "henghe-waitan", "languang", "yuefu", "qingyuan")) {
      assertThat(site.gridNode(compound).orElseThrow().level()).isEqualTo(GridLevel.COMPOUND);
      assertThat(site.device("fire-" + compound).orElseThrow().type())
          .isEqualTo(DeviceType.FIRE_PANEL);
    }
    assertThat(site.devicesOfType(DeviceType.FIRE_PANEL)).hasSize(11 + 4 + 7);

    Device jialing = site.device("river-jialing-1").orElseThrow();
    assertThat(site.ruleParameters(jialing).number("warning_level_m")).isEqualTo(270.80);
    Device xi = site.device("river-xi-1").orElseThrow();
    assertThat(site.ruleParameters(xi).number("warning_level_m")).isEqualTo(271.50);
    assertThat(site.ruleParameters(DeviceType.GAS_ALARM).number("level1_lel")).isEqualTo(25);
    assertThat(site.ruleParameters(DeviceType.GAS_ALARM).number("level2_lel")).isEqualTo(50);

    assertThat(site.gridChain("fire-nanmen-1"))
        .extracting(GridNode::id)
        .containsExactly("nanmen-1", "nanmenba", "dongnan");
    assertThat(site.gridChainFromNode("nanmen-1-b2-u1"))
        .extracting(GridNode::level)
        .containsExactly(
            GridLevel.UNIT, GridLevel.BUILDING, GridLevel.COMPOUND, GridLevel.COMMUNITY,
            GridLevel.SUB_DISTRICT);
    assertThat(site.gridNode("dongnan").orElseThrow().contacts())
        .extracting(c2 -> c2.role())
        .containsExactly("duty_officer", "duty_leader");

    assertThat(site.responders().volunteerTeams()).hasSize(5);
    assertThat(site.responders().volunteerTeams().stream().mapToInt(Team::members).sum())
        .isEqualTo(236);
    assertThat(site.responders().militiaTeams()).hasSize(3);
    assertThat(site.responders().militiaTeams().stream().mapToInt(Team::members).sum())
        .isEqualTo(43);
    assertThat(site.departmentsFor(DeviceType.RIVER_GAUGE))
        .extracting(d -> d.id())
        .containsExactly("flood-command");
    assertThat(site.departmentsFor(DeviceType.GAS_ALARM))
        .extracting(d -> d.id())
        .containsExactly("dongnan-market-supervision", "gas-company");
    assertThat(site.teamsFor(DeviceType.RIVER_GAUGE))
        .extracting(Team::id)
        .containsExactly("militia-1", "militia-2", "militia-3");
    assertThat(site.grid().reportUpward())
        .containsExactly("dongnan-duty-leader", "district-emergency-management");
    assertThat(site.recipientName("district-emergency-management")).get().asString()
        .startsWith("District emergency management bureau");

    GatewayConfig g = c.gateway();
    assertThat(g.ports()).isEqualTo(new Ports(1883, 5683, 5684, 8080));
    assertThat(g.database().url()).isEqualTo(DatabaseConfig.LOCAL_URL);
    assertThat(g.database().user()).isEqualTo("safegrid");
    assertThat(g.database().password()).isEqualTo("safegrid");
    assertThat(g.mqtt().maxPacketBytes()).isEqualTo(64 * 1024);
    assertThat(g.dashboard().firstWithRole("officer").token()).isEqualTo("demo-officer-token");
    assertThat(g.dashboard().firstWithRole("viewer")).isNotNull();
  }

  @Test
  void shippedRuleParametersAreAllKnownToTheRuleEngine() {
    Site site = loader.load(SHIPPED, Map.of()).site();
    assertThat(RuleBook.fromParameters(site.rules()).unknownParameters()).isEmpty();
  }

  @Test
  void environmentOverridesWin() {
    Map<String, String> env =
        Map.of(
            "SAFEGRID_DB_URL", "jdbc:postgresql://127.0.0.1:5999/other",
            "SAFEGRID_DB_USER", "alice",
            "SAFEGRID_DB_PASSWORD", "s3cret",
            "SAFEGRID_MQTT_PORT", "0",
            "SAFEGRID_COAP_PORT", "15683",
            "SAFEGRID_COAPS_PORT", "15684",
            "SAFEGRID_HTTP_PORT", "18080");
    GatewayConfig g = loader.load(SHIPPED, env).gateway();
    assertThat(g.database().url()).isEqualTo("jdbc:postgresql://127.0.0.1:5999/other");
    assertThat(g.database().user()).isEqualTo("alice");
    assertThat(g.database().password()).isEqualTo("s3cret");
    assertThat(g.ports()).isEqualTo(new Ports(0, 15683, 15684, 18080));
  }

  @Test
  void configPathComesFromCliThenEnvThenDefault() {
    assertThat(ConfigLoader.configPath("a.yaml", Map.of("SAFEGRID_CONFIG", "b.yaml")))
        .isEqualTo(Path.of("a.yaml"));
    assertThat(ConfigLoader.configPath(null, Map.of("SAFEGRID_CONFIG", "b.yaml")))
        .isEqualTo(Path.of("b.yaml"));
    assertThat(ConfigLoader.configPath(null, Map.of())).isEqualTo(Path.of("config/dongnan.yaml"));
  }

  @Test
  void badPortInEnvironmentNamesTheVariable() {
    assertThatThrownBy(() -> loader.load(SHIPPED, Map.of("SAFEGRID_HTTP_PORT", "eighty")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SAFEGRID_HTTP_PORT")
        .hasMessageContaining("'eighty' is not a port");
  }

  // ---- broken files: the message names file, line and field ----

  static final String MINIMAL =
      """
      site: {id: test, name: "Test site"}
      grid:
        sub_district:
          id: sd
          name: "Sub-district"
          duty_officer: {id: sd-officer, name: "Officer (placeholder)", role: duty_officer}
          duty_leader: {id: sd-leader, name: "Leader (placeholder)", role: duty_leader}
        communities:
          - id: c1
            name: "Community 1"
            compounds:
              - id: p1
                name: "Compound 1"
                buildings:
                  - id: p1-b1
                    name: "Building 1"
                    units:
                      - {id: p1-b1-u1, name: "Unit 1"}
          - id: c2
            name: "Community 2"
      devices:
        - {id: gas-001, type: gas_alarm, place: {community: c1}, secret: s1, report_interval_s: 60}
        - {id: fire-p1, type: fire_panel, place: {community: c1, compound: p1}, secret: s2, report_interval_s: 60}
      """;

  private Path write(String text) throws IOException {
    Path f = dir.resolve("site.yaml");
    Files.writeString(f, text);
    return f;
  }

  private static int lineOf(String text, String needle) {
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].contains(needle)) {
        return i + 1;
      }
    }
    throw new AssertionError("not in text: " + needle);
  }

  private ConfigException failure(String text) throws IOException {
    Path f = write(text);
    try {
      loader.load(f, Map.of());
    } catch (ConfigException e) {
      System.out.println(e.getMessage());
      assertThat(e.file()).isEqualTo(f.toString());
      assertThat(e.getMessage()).startsWith(f + ":" + e.line() + ": ");
      return e;
    }
    throw new AssertionError("expected a ConfigException");
  }

  @Test
  void minimalFileLoadsWithDefaults() throws IOException {
    LoadedConfig c = loader.load(write(MINIMAL), Map.of());
    assertThat(c.site().devices()).hasSize(2);
    assertThat(c.gateway().ports()).isEqualTo(new Ports(1883, 5683, 5684, 8080));
    assertThat(c.gateway().storage().batchSize()).isEqualTo(5000);
    assertThat(c.gateway().emergencyNetwork().brokerUrl()).isNull();
    assertThat(c.site().gridChain("fire-p1")).extracting(GridNode::id).containsExactly("p1", "c1", "sd");
  }

  @Test
  void mqttTlsListenerIsOptionalAndRead() throws IOException {
    assertThat(loader.load(write(MINIMAL), Map.of()).gateway().mqtt().tls()).isNull();
    String text = MINIMAL
        + "mqtt:\n  tls: {port: 8883, certificate_chain: /etc/sg/server.crt, private_key: /etc/sg/server.key}\n";
    MqttTlsConfig tls = loader.load(write(text), Map.of()).gateway().mqtt().tls();
    assertThat(tls).isEqualTo(new MqttTlsConfig(8883, "/etc/sg/server.crt", "/etc/sg/server.key", null));
    // the limits not named keep their defaults
    assertThat(loader.load(write(text), Map.of()).gateway().mqtt().maxPacketBytes()).isEqualTo(65536);
  }

  @Test
  void badDeviceTypeNamesFileLineAndField() throws IOException {
    String text = MINIMAL.replace("type: fire_panel", "type: fire_pannel");
    ConfigException e = failure(text);
    assertThat(e.line()).isEqualTo(lineOf(text, "fire_pannel"));
    assertThat(e.field()).isEqualTo("devices[1].type");
    assertThat(e.problem()).contains("unknown device type 'fire_pannel'");
  }

  @Test
  void unknownFieldNamesFileLineAndField() throws IOException {
    String text = MINIMAL.replace("secret: s2,", "secret: s2, colour: red,");
    ConfigException e = failure(text);
    assertThat(e.line()).isEqualTo(lineOf(text, "colour: red"));
    assertThat(e.field()).isEqualTo("devices[1].colour");
    assertThat(e.problem()).startsWith("unknown field 'colour'").contains("report_interval_s");
  }

  @Test
  void unknownTopLevelSectionIsAnError() throws IOException {
    String text = MINIMAL + "databse: {url: x}\n";
    ConfigException e = failure(text);
    assertThat(e.line()).isEqualTo(lineOf(text, "databse"));
    assertThat(e.field()).isEqualTo("databse");
  }

  @Test
  void duplicateDeviceIdNamesTheSecondOne() throws IOException {
    String text = MINIMAL.replace("id: fire-p1", "id: gas-001");
    ConfigException e = failure(text);
    assertThat(e.line()).isEqualTo(lineOf(text, "type: fire_panel"));
    assertThat(e.field()).isEqualTo("devices[1].id");
    assertThat(e.problem()).contains("duplicate device id 'gas-001'");
  }

  @Test
  void badDeviceIdIsRejected() throws IOException {
    String text = MINIMAL.replace("id: fire-p1", "id: Fire_P1");
    ConfigException e = failure(text);
    assertThat(e.field()).isEqualTo("devices[1].id");
    assertThat(e.problem()).contains("does not match");
  }

  @Test
  void placeMustReferToTheGridAndNest() throws IOException {
    String text = MINIMAL.replace("place: {community: c1, compound: p1}", "place: {community: c2, compound: p1}");
    ConfigException e = failure(text);
    assertThat(e.line()).isEqualTo(lineOf(text, "community: c2, compound: p1"));
    assertThat(e.field()).isEqualTo("devices[1].place.compound");
    assertThat(e.problem()).contains("compound 'p1' is not in community 'c2'");

    String missing = MINIMAL.replace("place: {community: c1}", "place: {community: c9}");
    ConfigException e2 = failure(missing);
    assertThat(e2.field()).isEqualTo("devices[0].place.community");
    assertThat(e2.line()).isEqualTo(lineOf(missing, "community: c9"));
  }

  @Test
  void duplicateYamlKeyNamesTheKey() throws IOException {
    String text = MINIMAL.replace("site: {id: test, name: \"Test site\"}", "site: {id: test, name: \"Test site\"}\nretention_days: 30\nretention_days: 40");
    ConfigException e = failure(text);
    assertThat(e.line()).isEqualTo(lineOf(text, "retention_days: 40"));
    assertThat(e.problem()).contains("duplicate key").contains("retention_days");
  }

  @Test
  void wrongValueTypeNamesTheField() throws IOException {
    String text = MINIMAL + "ports: {mqtt: eighteen, http: 8080}\n";
    ConfigException e = failure(text);
    assertThat(e.line()).isEqualTo(lineOf(text, "mqtt: eighteen"));
    assertThat(e.field()).isEqualTo("ports.mqtt");
  }

  @Test
  void badDashboardRoleIsRejected() throws IOException {
    String text = MINIMAL + "dashboard:\n  tokens:\n    - {token: t1, role: admin, name: x}\n";
    ConfigException e = failure(text);
    assertThat(e.line()).isEqualTo(lineOf(text, "role: admin"));
    assertThat(e.field()).isEqualTo("dashboard.tokens[0].role");
  }

  @Test
  void reportUpwardMustNameARecipient() throws IOException {
    String text = MINIMAL.replace("  communities:\n", "  report_upward: [sd-leader, nobody]\n  communities:\n");
    ConfigException e = failure(text);
    assertThat(e.field()).isEqualTo("grid.report_upward[1]");
    assertThat(e.line()).isEqualTo(lineOf(text, "report_upward"));
    assertThat(e.problem()).contains("'nobody'");
  }

  @Test
  void webhookNeedsASecret() throws IOException {
    String text = MINIMAL + "webhooks:\n  - {name: bot, url: \"http://127.0.0.1:9/x\"}\n";
    ConfigException e = failure(text);
    assertThat(e.field()).isEqualTo("webhooks[0].secret");
    assertThat(e.line()).isEqualTo(lineOf(text, "name: bot"));
  }

  @Test
  void yamlSyntaxErrorGivesTheLine() throws IOException {
    String text = MINIMAL.replace("name: \"Community 2\"", "name: \"Community 2");
    ConfigException e = failure(text);
    assertThat(e.line()).isGreaterThan(0);
  }

  @Test
  void missingFileSaysSo() {
    assertThatThrownBy(() -> loader.load(dir.resolve("nope.yaml"), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("nope.yaml")
        .hasMessageContaining("no such file");
  }
}
