package io.safegrid.dashboard;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.JdbcAlarmLedger;
import io.safegrid.alerting.ledger.LedgerConfig;
import io.safegrid.dashboard.auth.TokenTable;
import io.safegrid.dashboard.grid.GridNode;
import io.safegrid.dashboard.http.HealthReport;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Severity;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * A dashboard on a real migrated database with the real JDBC ledger: three devices of the Dongnan
 * site, an hour of gas readings, an officer and a viewer token.
 */
final class Fixture implements AutoCloseable {
  static final String OFFICER = "officer-token-zhang";
  static final String VIEWER = "viewer-token-screen";

  final DataSource dataSource;
  final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final JdbcAlarmLedger ledger;
  final DashboardServer server;
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  final Instant seededAt = Instant.now();

  Fixture(DataSource dataSource, int clientQueue) throws SQLException {
    this(dataSource, clientQueue, InstantSource.system());
  }

  /** With the ledger on {@code clock} (escalation deadlines are taken on the ledger's clock). */
  Fixture(DataSource dataSource, int clientQueue, InstantSource clock) throws SQLException {
    this(dataSource, clientQueue, clock, 0);
  }

  /** On HTTP port {@code port} (0: a free one), e.g. a restarted gateway's port. */
  Fixture(DataSource dataSource, int clientQueue, InstantSource clock, int port) throws SQLException {
    this.dataSource = dataSource;
    seed(dataSource, seededAt);
    ledger = new JdbcAlarmLedger(dataSource, clock, LedgerConfig.defaults(), registry);
    ledger.start();
    server =
        DashboardServer.builder()
            .host("127.0.0.1")
            .port(port)
            .dataSource(dataSource)
            .alarmService(ledger)
            .tokens(TokenTable.builder().officer(OFFICER, "duty-zhang").viewer(VIEWER, "screen").build())
            .registry(registry)
            .health(() -> Map.of("spool", HealthReport.up(Map.of("batches", 0))))
            .grid(
                List.of(
                    GridNode.community(
                        "nanmen",
                        "南门社区 Nanmen",
                        List.of(
                            GridNode.compound(
                                "nanmen-new-city",
                                "南门新城 Nanmen New City",
                                List.of(GridNode.building("b1", "1栋 Building 1")))))))
            .clientQueueCapacity(clientQueue)
            .build()
            .start();
  }

  Fixture(DataSource dataSource) throws SQLException {
    this(dataSource, DashboardServer.DEFAULT_CLIENT_QUEUE);
  }

  int port() {
    return server.port();
  }

  String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  HttpResponse<String> get(String path, String token) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(10));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String path, String token, String body)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url(path)))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json");
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(
        b.POST(body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** What the rule engine would do when a reading crosses a threshold. */
  Alarm raise(String device, Severity severity, String message) {
    return ledger
        .apply(
            new AlarmTransition(
                device,
                "gas-lel-threshold",
                AlarmTransition.Kind.RAISE,
                severity,
                System.currentTimeMillis(),
                message,
                Map.of("gas_lel", 55.0, "threshold", 50)))
        .orElseThrow();
  }

  Alarm clear(String device) {
    return ledger
        .apply(
            new AlarmTransition(
                device,
                "gas-lel-threshold",
                AlarmTransition.Kind.CLEAR,
                Severity.MAJOR,
                System.currentTimeMillis(),
                "gas back below level 1",
                Map.of("gas_lel", 3.0)))
        .orElseThrow();
  }

  static void seed(DataSource ds, Instant now) throws SQLException {
    try (Connection c = ds.getConnection()) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO devices (id, type, community, compound, building, unit, name, premises)"
                  + " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING")) {
        Object[][] rows = {
          {"gas-001", "gas_alarm", "nanmen", "nanmen-new-city", "b1", "1", "燃气报警器 Gas alarm 001", "老火锅 Old Hotpot"},
          {"gas-002", "gas_alarm", "nanmen", "nanmen-new-city", "b1", "2", "燃气报警器 Gas alarm 002", "川菜馆 Sichuan Kitchen"},
          {"river-jialing-1", "river_gauge", "nanmen", null, null, null, "嘉陵江水位站 Jialing gauge 1", null},
        };
        for (Object[] r : rows) {
          for (int i = 0; i < r.length; i++) {
            ps.setObject(i + 1, r[i]);
          }
          ps.addBatch();
        }
        ps.executeBatch();
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO readings (time, device_id, metric, value) VALUES (?, ?, ?, ?)"
                  + " ON CONFLICT DO NOTHING")) {
        Instant start = now.minus(Duration.ofMinutes(60));
        for (int m = 0; m < 60; m++) {
          Instant t = start.plus(Duration.ofMinutes(m));
          ps.setTimestamp(1, Timestamp.from(t));
          ps.setString(2, "gas-001");
          ps.setString(3, "gas_lel");
          ps.setDouble(4, m); // 0, 1, ..., 59 %LEL: crosses 25 and 50 on the way up
          ps.addBatch();
          ps.setTimestamp(1, Timestamp.from(t));
          ps.setString(2, "gas-001");
          ps.setString(3, "battery_pct");
          ps.setDouble(4, 90);
          ps.addBatch();
        }
        ps.setTimestamp(1, Timestamp.from(now.minusSeconds(30)));
        ps.setString(2, "river-jialing-1");
        ps.setString(3, "level_m");
        ps.setDouble(4, 268.4);
        ps.addBatch();
        ps.executeBatch();
      }
    }
  }

  @Override
  public void close() {
    server.stop();
    ledger.close();
  }
}
