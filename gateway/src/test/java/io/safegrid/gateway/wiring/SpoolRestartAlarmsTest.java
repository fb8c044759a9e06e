package io.safegrid.gateway.wiring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.safegrid.gateway.config.ConfigLoader;
import io.safegrid.gateway.config.LoadedConfig;
import io.safegrid.gateway.storage.TcpProxy;
import io.safegrid.testing.TestDatabase;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * newcomer7 F9: the gateway is stopped (SIGTERM) or killed (kill -9) while TimescaleDB is
 * unreachable, after it PUBACK'd a 75 %LEL reading and a fire event into its spool; its alarm
 * writer's transitions, waiting for the ledger, die with it. After the restart (database back) the
 * spool is replayed into {@code readings} and {@code device_events}, and the critical gas alarm
 * and the fire alarm must be in the ledger too: the fire panel never resends a fire it got a
 * PUBACK for. The database is cut with a loopback proxy ({@link TcpProxy}); the real TimescaleDB
 * and the shipped site configuration. And F4 (c): an alarm that waited for the ledger carries the
 * reading's time.
 */
class SpoolRestartAlarmsTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void stoppedWhileTheDatabaseIsUnreachable_theSpooledGasAndFireAlarmsAreRaisedAfterTheRestart(
      @TempDir Path dir) throws Exception {
    try (TcpProxy proxy = proxyToTestDatabase()) {
      LoadedConfig config = config(dir, proxy);
      try (Gateway first = Gateway.start(config)) {
        String mqtt = "tcp://127.0.0.1:" + first.ports().mqtt();
        publish(mqtt, "gas-014", "telemetry", "{\"values\":{\"gas_lel\":1.0}}");
        await().atMost(Duration.ofSeconds(20)).until(() -> storedReadings("gas-014") == 1);

        proxy.cut();
        publish(mqtt, "gas-014", "telemetry", "{\"values\":{\"gas_lel\":77}}");
        publish(mqtt, "fire-nanmen-6", "events", "{\"event\":\"fire\",\"zone\":6,\"point\":6}");
        assertThat(spoolSegments(dir)).as("PUBACK'd from the spool").isNotZero();
      } // a clean stop while the ledger is unreachable: its queued transitions are dropped

      proxy.restore();
      assertThat(openAlarm("gas-014", "gas-lel-threshold")).as("nothing reached the ledger").isNull();
      try (Gateway second = Gateway.start(config)) {
        assertRaisedAfterRestart(second, "gas-014", "fire-nanmen-6", 77.0);
      }
    }
  }

  @Test
  void killedWhileTheDatabaseIsUnreachable_theSpooledGasAndFireAlarmsAreRaisedAfterTheRestart(
      @TempDir Path dir) throws Exception {
    try (TcpProxy proxy = proxyToTestDatabase()) {
      LoadedConfig config = config(dir, proxy);
      Process child = startGatewayProcess(dir, proxy);
      try {
        String mqtt = "tcp://127.0.0.1:" + mqttPortOf(child);
        publish(mqtt, "gas-012", "telemetry", "{\"values\":{\"gas_lel\":1.0}}");
        await().atMost(Duration.ofSeconds(20)).until(() -> storedReadings("gas-012") == 1);

        proxy.cut();
        publish(mqtt, "gas-012", "telemetry", "{\"values\":{\"gas_lel\":75}}");
        publish(mqtt, "fire-languang-xiangjiang", "events", "{\"event\":\"fire\",\"zone\":4,\"point\":4}");
        assertThat(spoolSegments(dir)).as("PUBACK'd from the spool").isNotZero();
      } finally {
        child.destroyForcibly(); // SIGKILL: no shutdown hook, no drain
        assertThat(child.waitFor(20, TimeUnit.SECONDS)).isTrue();
      }

      proxy.restore();
      assertThat(openAlarm("gas-012", "gas-lel-threshold")).as("nothing reached the ledger").isNull();
      try (Gateway second = Gateway.start(config)) {
        assertRaisedAfterRestart(second, "gas-012", "fire-languang-xiangjiang", 75.0);
      }
    }
  }

  /**
   * newcomer7 F4 (c): the gateway keeps running through the outage; the alarm reaches the ledger
   * when the database is back, registered at the reading's time, not at the database's return.
   */
  @Test
  void anAlarmDecidedWhileTheDatabaseIsUnreachableIsRaisedAtTheReadingsTime(@TempDir Path dir)
      throws Exception {
    try (TcpProxy proxy = proxyToTestDatabase();
        Gateway g = Gateway.start(config(dir, proxy))) {
      String mqtt = "tcp://127.0.0.1:" + g.ports().mqtt();
      publish(mqtt, "gas-016", "telemetry", "{\"values\":{\"gas_lel\":1.0}}");
      await().atMost(Duration.ofSeconds(20)).until(() -> storedReadings("gas-016") == 1);

      proxy.cut();
      publish(mqtt, "gas-016", "telemetry", "{\"values\":{\"gas_lel\":80}}");
      Thread.sleep(6_000); // the database stays away; the alarm writer retries
      proxy.restore();

      HttpClient http = HttpClient.newHttpClient();
      JsonNode gas = await().atMost(Duration.ofSeconds(30))
          .until(() -> apiAlarm(http, g, "gas-016", "gas-lel-threshold"), n -> n != null);
      await().atMost(Duration.ofSeconds(20)).until(() -> storedReadings("gas-016") == 2);
      Instant reading = newestReadingTime("gas-016");
      Instant raisedAt = Instant.parse(gas.path("raisedAt").asText());
      assertThat(raisedAt).as("the 80 %LEL reading's time").isEqualTo(reading);
      assertThat(Instant.parse(gas.path("updatedAt").asText()))
          .as("registered when the database came back").isAfter(reading.plusSeconds(5));
    }
  }

  /**
   * review7 R2: a restart while the spool is still being replayed must not judge again what the
   * replay had already stored. The gateway runs through an outage in which a fire panel reports a
   * fire and its reset and a gas unit 70 %LEL then 0; the database comes back, the alarms are
   * raised and cleared, the replay stores the spool, the officer closes the alarms. A second
   * outage spools a 75 %LEL of another unit, and the gateway is stopped. The spool left is then
   * the first (replayed) segment, as a crash between the replay's commit and the segment's
   * deletion leaves it (segments are append-only: the file is the one the outage wrote, copied
   * before the replay deleted it), and the second (never stored) segment. After the restart the
   * past fire and leak raise nothing and call nobody; the 75 %LEL still raises.
   */
  @Test
  void restartedWithASpoolWhoseFirstPartWasReplayed_theClosedFireAndLeakAreNotRaisedAgain(
      @TempDir Path dir) throws Exception {
    String gas = "gas-013";
    String panel = "fire-nanmen-3";
    String other = "gas-015";
    Path replayed = dir.resolve("replayed-segments");
    Files.createDirectories(replayed);
    HttpClient http = HttpClient.newHttpClient();
    try (TcpProxy proxy = proxyToTestDatabase()) {
      LoadedConfig config = config(dir, proxy);
      try (Gateway first = Gateway.start(config)) {
        String mqtt = "tcp://127.0.0.1:" + first.ports().mqtt();
        publish(mqtt, gas, "telemetry", "{\"values\":{\"gas_lel\":1.0}}");
        publish(mqtt, other, "telemetry", "{\"values\":{\"gas_lel\":1.0}}");
        await().atMost(Duration.ofSeconds(20))
            .until(() -> storedReadings(gas) == 1 && storedReadings(other) == 1);

        proxy.cut();
        publish(mqtt, panel, "events", "{\"event\":\"fire\",\"zone\":3,\"point\":3}");
        publish(mqtt, panel, "events", "{\"event\":\"reset\"}");
        publish(mqtt, gas, "telemetry", "{\"values\":{\"gas_lel\":70}}");
        publish(mqtt, gas, "telemetry", "{\"values\":{\"gas_lel\":0}}");
        copySegments(dir.resolve("spool"), replayed);
        assertThat(segmentsIn(replayed)).as("PUBACK'd from the spool").isNotZero();

        proxy.restore(); // the alarm writer applies raise and clear; the store replays the spool
        await().atMost(Duration.ofSeconds(40)).until(() -> storedReadings(gas) == 3
            && alarmStates(gas, panel).equals(List.of("cleared_unacked", "cleared_unacked")));
        await().atMost(Duration.ofSeconds(20)).until(() -> spoolSegments(dir) == 0);
        for (long id : alarmIds(gas, panel)) { // the officer writes them off
          post(http, first, id, "ack", "{\"note\":\"seen\"}");
          post(http, first, id, "close", "{\"note\":\"panel reset, gas vented\"}");
        }
        assertThat(alarmStates(gas, panel)).containsOnly("closed");

        proxy.cut(); // a second outage: this reading is never stored before the stop
        publish(mqtt, other, "telemetry", "{\"values\":{\"gas_lel\":75}}");
        assertThat(spoolSegments(dir)).isNotZero();
      }
      copySegments(replayed, dir.resolve("spool")); // the replayed part, still on disk
      List<Long> alarmsBefore = alarmIds(gas, panel);
      long eventsBefore = count("SELECT count(*) FROM alarm_events e JOIN alarms a ON a.id = e.alarm_id"
          + " WHERE a.device_id IN (?, ?)", gas, panel);
      long outboxBefore = count("SELECT count(*) FROM outbox o JOIN alarms a ON a.id = o.alarm_id"
          + " WHERE a.device_id IN (?, ?)", gas, panel);
      assertThat(outboxBefore).as("the fire and the leak called people out").isPositive();

      proxy.restore();
      try (Gateway second = Gateway.start(config)) {
        JsonNode leak = await().atMost(Duration.ofSeconds(20))
            .until(() -> apiAlarm(http, second, other, "gas-lel-threshold"), n -> n != null);
        assertThat(leak.path("severity").asText()).as("the never-stored reading").isEqualTo("critical");
        await().atMost(Duration.ofSeconds(20)).until(() -> storedReadings(other) == 2
            && spoolSegments(dir) == 0);
        Thread.sleep(1_000); // the rule clock's turns after the start
        assertThat(apiAlarm(http, second, panel, "fire-panel-fire")).as("no fire alarm opened").isNull();
        assertThat(apiAlarm(http, second, gas, "gas-lel-threshold")).as("no gas alarm opened").isNull();
        assertThat(alarmIds(gas, panel)).as("no alarm registered again").isEqualTo(alarmsBefore);
        assertThat(alarmStates(gas, panel)).containsOnly("closed");
        assertThat(count("SELECT count(*) FROM alarm_events e JOIN alarms a ON a.id = e.alarm_id"
            + " WHERE a.device_id IN (?, ?)", gas, panel)).as("alarm history").isEqualTo(eventsBefore);
        assertThat(count("SELECT count(*) FROM outbox o JOIN alarms a ON a.id = o.alarm_id"
            + " WHERE a.device_id IN (?, ?)", gas, panel)).as("nobody called out").isEqualTo(outboxBefore);
        assertThat(storedReadings(gas)).isEqualTo(3);
      }
    }
  }

  /**
   * review7 R2, the running side: the database comes back after a long outage; the store's probe
   * finds it in 0.5 s, the alarm writer's next retry is seconds away. The spool must not be
   * replayed (its rows stored, and so taken for judged by the next start) before the writer has
   * put the 76 %LEL reading's alarm in the ledger: the gateway is killed (SIGKILL) the moment the
   * reading is in {@code readings}, and after the restart the alarm is there.
   */
  @Test
  void killedRightAfterTheReplayStoredASpooledLeak_itsAlarmIsInTheLedger(@TempDir Path dir)
      throws Exception {
    String gas = "gas-019";
    try (TcpProxy proxy = proxyToTestDatabase()) {
      LoadedConfig config = config(dir, proxy);
      Process child = startGatewayProcess(dir, proxy);
      List<String> output = new java.util.concurrent.CopyOnWriteArrayList<>();
      try {
        String mqtt = "tcp://127.0.0.1:" + mqttPortOf(child, output);
        publish(mqtt, gas, "telemetry", "{\"values\":{\"gas_lel\":1.0}}");
        await().atMost(Duration.ofSeconds(20)).until(() -> storedReadings(gas) == 1);

        proxy.cut();
        publish(mqtt, gas, "telemetry", "{\"values\":{\"gas_lel\":76}}");
        // the writer's 4th attempt failed: its next is 4 s away (back-off 0.5, 1, 2, 4 s)
        await().atMost(Duration.ofSeconds(60)).until(() -> output.stream().anyMatch(l ->
            l.contains("refused gas-lel-threshold of " + gas + " (attempt 4)")));
        proxy.restore();
        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(10))
            .until(() -> storedReadings(gas) == 2);
      } finally {
        child.destroyForcibly(); // SIGKILL the moment the replay stored it
        assertThat(child.waitFor(20, TimeUnit.SECONDS)).isTrue();
      }
      assertThat(openAlarm(gas, "gas-lel-threshold")).as("in the ledger before its row was stored")
          .isNotNull();
      try (Gateway second = Gateway.start(config)) {
        JsonNode leak = await().atMost(Duration.ofSeconds(20)).until(
            () -> apiAlarm(HttpClient.newHttpClient(), second, gas, "gas-lel-threshold"), n -> n != null);
        assertThat(leak.path("severity").asText()).isEqualTo("critical");
        assertThat(leak.path("evidence").path("value").asDouble()).isEqualTo(76.0);
      }
    }
  }

  /**
   * review7 R12: a gas unit whose clock was reset to 2000 reports a leak during an outage; the
   * gateway is stopped; after the restart the spooled reading raises the alarm at about the time
   * it was spooled, not on 2000-01-01 (the reading itself is stored with the device's time).
   */
  @Test
  void aResetClockUnitsSpooledLeakIsRaisedAtItsSpoolTimeNotInTheYear2000(@TempDir Path dir)
      throws Exception {
    String gas = "gas-017";
    try (TcpProxy proxy = proxyToTestDatabase()) {
      LoadedConfig config = config(dir, proxy);
      Instant spooledFrom;
      Instant spooledTo;
      try (Gateway first = Gateway.start(config)) {
        String mqtt = "tcp://127.0.0.1:" + first.ports().mqtt();
        publish(mqtt, gas, "telemetry", "{\"values\":{\"gas_lel\":1.0}}");
        await().atMost(Duration.ofSeconds(20)).until(() -> storedReadings(gas) == 1);

        proxy.cut();
        spooledFrom = Instant.now().minusMillis(1);
        publish(mqtt, gas, "telemetry", "{\"ts\":\"2000-01-01T00:00:05Z\",\"values\":{\"gas_lel\":72}}");
        spooledTo = Instant.now().plusMillis(1);
      }
      proxy.restore();
      try (Gateway second = Gateway.start(config)) {
        HttpClient http = HttpClient.newHttpClient();
        JsonNode leak = await().atMost(Duration.ofSeconds(20))
            .until(() -> apiAlarm(http, second, gas, "gas-lel-threshold"), n -> n != null);
        assertThat(leak.path("severity").asText()).isEqualTo("critical");
        assertThat(Instant.parse(leak.path("raisedAt").asText()))
            .as("raised at the spool time of the reading").isBetween(spooledFrom, spooledTo);
        await().atMost(Duration.ofSeconds(20)).until(() -> storedReadings(gas) == 2);
        assertThat(oldestReadingTime(gas)).as("stored with the device's time")
            .isEqualTo(Instant.parse("2000-01-01T00:00:05Z"));
      }
    }
  }

  /** The spool replayed, and the gas and fire alarms open in the officer's API. */
  private static void assertRaisedAfterRestart(Gateway g, String gas, String panel, double lel)
      throws Exception {
    await().atMost(Duration.ofSeconds(20)).until(() -> storedReadings(gas) == 2);
    HttpClient http = HttpClient.newHttpClient();
    JsonNode gasAlarm = await().atMost(Duration.ofSeconds(20))
        .until(() -> apiAlarm(http, g, gas, "gas-lel-threshold"), n -> n != null);
    assertThat(gasAlarm.path("state").asText()).isEqualTo("active_unacked");
    assertThat(gasAlarm.path("severity").asText()).isEqualTo("critical");
    assertThat(gasAlarm.path("evidence").path("value").asDouble()).isEqualTo(lel);
    JsonNode fire = await().atMost(Duration.ofSeconds(20))
        .until(() -> apiAlarm(http, g, panel, "fire-panel-fire"), n -> n != null);
    assertThat(fire.path("state").asText()).isEqualTo("active_unacked");
    assertThat(fire.path("severity").asText()).isEqualTo("critical");
  }

  // ---- the gateway ----

  private static TcpProxy proxyToTestDatabase() throws Exception {
    URI u = URI.create(db.jdbcUrl().substring("jdbc:".length()));
    return new TcpProxy(u.getHost(), u.getPort());
  }

  /** The shipped site with its own spool, no notification broker, ports 0. */
  private static Path siteFile(Path dir) throws Exception {
    Path site = dir.resolve("site.yaml");
    if (!Files.exists(site)) {
      String yaml = Files.readString(Path.of("../config/dongnan.yaml"));
      String spool = "spool_dir: var/spool";
      String broker = "broker_url: tcp://127.0.0.1:1884";
      assertThat(yaml).contains(spool, broker);
      Files.writeString(site, yaml
          .replace(spool, "spool_dir: " + dir.resolve("spool"))
          .replace(broker, "broker_url: null"));
    }
    return site;
  }

  private static Map<String, String> env(TcpProxy proxy) {
    Map<String, String> env = new HashMap<>();
    env.put(ConfigLoader.ENV_DB_URL, proxy.jdbcUrl(db.name()));
    env.put(ConfigLoader.ENV_DB_USER, db.user());
    env.put(ConfigLoader.ENV_DB_PASSWORD, db.password());
    env.put(ConfigLoader.ENV_MQTT_PORT, "0");
    env.put(ConfigLoader.ENV_COAP_PORT, "0");
    env.put(ConfigLoader.ENV_COAPS_PORT, "0");
    env.put(ConfigLoader.ENV_HTTP_PORT, "0");
    return env;
  }

  private static LoadedConfig config(Path dir, TcpProxy proxy) throws Exception {
    return new ConfigLoader().load(siteFile(dir), env(proxy));
  }

  /** The gateway in a JVM of its own (the launcher's main class), to be killed with SIGKILL. */
  private static Process startGatewayProcess(Path dir, TcpProxy proxy) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx384m", "-cp",
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
        "io.safegrid.gateway.GatewayMain", "--config", siteFile(dir).toString())
        .redirectErrorStream(true);
    pb.environment().putAll(env(proxy));
    return pb.start();
  }

  /** Reads the child's output for its listening line; the rest is drained and dropped. */
  private static int mqttPortOf(Process child) throws Exception {
    return mqttPortOf(child, null);
  }

  /** As {@link #mqttPortOf(Process)}, keeping every line of the child's output in {@code lines}. */
  private static int mqttPortOf(Process child, List<String> lines) throws Exception {
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(
          new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          if (lines != null) {
            lines.add(line);
          }
          int at = line.indexOf("SafeGrid listening: mqtt=");
          if (at >= 0 && !port.isDone()) {
            String rest = line.substring(at + "SafeGrid listening: mqtt=".length());
            port.complete(Integer.parseInt(rest.substring(0, rest.indexOf(' '))));
          }
        }
      } catch (Exception e) {
        // killed
      }
      port.completeExceptionally(new IllegalStateException("the gateway process ended before listening"));
    }, "child-gateway-output");
    reader.setDaemon(true);
    reader.start();
    return port.get(90, TimeUnit.SECONDS);
  }

  // ---- devices and what a user sees ----

  /** Publishes at QoS 1 as the device (MQTT 5); returns once the PUBACK came. */
  private static void publish(String uri, String device, String topic, String payload) throws Exception {
    MqttClient c = new MqttClient(uri, device, new MemoryPersistence());
    c.setTimeToWait(20_000);
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setUserName(device);
    o.setPassword(("demo-" + device).getBytes(StandardCharsets.UTF_8));
    c.connect(o);
    try {
      c.publish("devices/" + device + "/" + topic, payload.getBytes(StandardCharsets.UTF_8), 1, false);
    } finally {
      c.disconnect();
      c.close();
    }
  }

  /** The device's open alarm of the rule as the duty officer's API lists it, or null. */
  private static JsonNode apiAlarm(HttpClient http, Gateway g, String device, String rule) throws Exception {
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + g.ports().http() + "/api/alarms?state=open&limit=1000"))
            .header("Authorization", "Bearer demo-officer-token").build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    for (JsonNode n : JSON.readTree(r.body()).path("alarms")) {
      if (device.equals(n.path("deviceId").asText()) && rule.equals(n.path("ruleId").asText())) {
        return n;
      }
    }
    return null;
  }

  /** An alarm of the device and rule in the ledger, any state, as its id; null when none. */
  private static Long openAlarm(String device, String rule) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT id FROM alarms WHERE device_id = ? AND rule_id = ?")) {
      ps.setString(1, device);
      ps.setString(2, rule);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : null;
      }
    }
  }

  private static int storedReadings(String device) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT count(*) FROM readings WHERE device_id = ? AND metric = 'gas_lel'")) {
      ps.setString(1, device);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  private static Instant newestReadingTime(String device) throws Exception {
    return readingTime("max", device);
  }

  private static Instant oldestReadingTime(String device) throws Exception {
    return readingTime("min", device);
  }

  /** {@code max} or {@code min} of the device's gas_lel reading times. */
  private static Instant readingTime(String aggregate, String device) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT " + aggregate + "(time) FROM readings WHERE device_id = ? AND metric = 'gas_lel'")) {
      ps.setString(1, device);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getTimestamp(1).toInstant();
      }
    }
  }

  /** Ids of every alarm of the devices (any state, any rule), in id order. */
  private static List<Long> alarmIds(String... devices) throws Exception {
    return alarmColumn("id", Long.class, devices);
  }

  /** States of every alarm of the devices, in id order. */
  private static List<String> alarmStates(String... devices) throws Exception {
    return alarmColumn("state", String.class, devices);
  }

  private static <T> List<T> alarmColumn(String column, Class<T> type, String... devices)
      throws Exception {
    List<T> values = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT " + column + " FROM alarms WHERE device_id = ANY (?) ORDER BY id")) {
      ps.setArray(1, c.createArrayOf("text", devices));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          values.add(rs.getObject(1, type));
        }
      }
    }
    return values;
  }

  private static long count(String sql, String... args) throws Exception {
    try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setString(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** An officer's action on an alarm through the API; asserts it was taken (200). */
  private static void post(HttpClient http, Gateway g, long id, String action, String body)
      throws Exception {
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + g.ports().http() + "/api/alarms/" + id + "/" + action))
            .header("Authorization", "Bearer demo-officer-token")
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(action + " " + id + ": " + r.body()).isEqualTo(200);
  }

  /** Copies the spool's segment files (not its lock file) from one directory to another. */
  private static void copySegments(Path from, Path to) throws Exception {
    try (Stream<Path> s = Files.list(from)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        if (p.getFileName().toString().endsWith(".spool")) {
          Files.copy(p, to.resolve(p.getFileName()));
        }
      }
    }
  }

  private static long spoolSegments(Path dir) throws Exception {
    return segmentsIn(dir.resolve("spool"));
  }

  private static long segmentsIn(Path spoolDir) throws Exception {
    try (Stream<Path> s = Files.list(spoolDir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".spool")).count();
    }
  }
}
