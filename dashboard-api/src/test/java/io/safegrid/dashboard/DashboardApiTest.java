package io.safegrid.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The REST API as a client sees it: auth and roles, validation, devices, readings, alarms. */
class DashboardApiTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  private static final ObjectMapper json = new ObjectMapper();
  private static Fixture f;

  @BeforeAll
  static void start() throws Exception {
    f = new Fixture(db.dataSource());
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  private static JsonNode body(HttpResponse<String> r) throws Exception {
    return json.readTree(r.body());
  }

  private static void assertError(HttpResponse<String> r, int status, String error) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
    JsonNode b = body(r);
    assertThat(b.path("error").asText()).as(r.body()).isEqualTo(error);
    assertThat(b.path("detail").asText()).isNotBlank();
  }

  @Test
  void healthNeedsNoTokenAndReportsDatabaseAndSpool() throws Exception {
    HttpResponse<String> r = f.get("/api/health", null);
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode b = body(r);
    assertThat(b.path("status").asText()).isEqualTo("up");
    assertThat(b.path("checks").path("database").path("up").asBoolean()).isTrue();
    assertThat(b.path("checks").path("spool").path("up").asBoolean()).isTrue();
  }

  @Test
  void everyApiButHealthNeedsAKnownBearerToken() throws Exception {
    for (String path :
        List.of("/api/devices", "/api/alarms", "/api/me", "/api/live/snapshot", "/api/openapi.yaml", "/api/grid", "/api/devices/gas-001")) {
      HttpResponse<String> r = f.get(path, null);
      assertError(r, 401, "unauthorized");
      assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
      assertError(f.get(path, "not-a-real-token"), 401, "unauthorized");
    }
    var basic =
        f.http.send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(f.url("/api/devices")))
                .header("Authorization", "Basic dXNlcjpwYXNz")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertError(basic, 401, "unauthorized");
    // the query token is for the SSE endpoint only
    assertError(f.get("/api/devices?access_token=" + Fixture.OFFICER, null), 401, "unauthorized");
    assertThat(f.get("/api/devices", Fixture.VIEWER).statusCode()).isEqualTo(200);
  }

  @Test
  void aViewerReadsButMayNotAcknowledgeOrClose() throws Exception {
    Alarm a = f.raise("gas-101", Severity.MAJOR, "gas 31 %LEL above level 1");
    assertThat(f.get("/api/alarms/" + a.id(), Fixture.VIEWER).statusCode()).isEqualTo(200);
    assertError(f.post("/api/alarms/" + a.id() + "/ack", Fixture.VIEWER, "{}"), 403, "forbidden");
    assertError(f.post("/api/alarms/" + a.id() + "/close", Fixture.VIEWER, "{\"note\":\"x\"}"), 403, "forbidden");
    assertThat(body(f.get("/api/alarms/" + a.id(), Fixture.OFFICER)).path("state").asText()).isEqualTo("active_unacked");
  }

  @Test
  void anOfficerAcknowledgesThenClosesWithANoteAndTheHistoryShowsWhoAndWhy() throws Exception {
    Alarm a = f.raise("gas-102", Severity.CRITICAL, "gas 55 %LEL above level 2");
    String base = "/api/alarms/" + a.id();

    HttpResponse<String> ack = f.post(base + "/ack", Fixture.OFFICER, "{\"note\":\"on my way\"}");
    assertThat(ack.statusCode()).as(ack.body()).isEqualTo(200);
    assertThat(body(ack).path("state").asText()).isEqualTo("active_acked");
    assertThat(body(ack).path("acknowledgedBy").asText()).isEqualTo("duty-zhang");

    assertError(f.post(base + "/ack", Fixture.OFFICER, null), 409, "illegal_transition");
    assertError(f.post(base + "/close", Fixture.OFFICER, "{\"note\":\"done\"}"), 409, "illegal_transition");

    f.clear("gas-102");
    assertError(f.post(base + "/close", Fixture.OFFICER, null), 400, "missing_note");
    assertError(f.post(base + "/close", Fixture.OFFICER, "{\"note\":\"   \"}"), 400, "missing_note");
    assertError(f.post(base + "/close", Fixture.OFFICER, "{note: nope"), 400, "bad_body");
    assertError(f.post(base + "/close", Fixture.OFFICER, "{\"note\": 5}"), 400, "bad_note");

    HttpResponse<String> close =
        f.post(base + "/close", Fixture.OFFICER, "{\"note\":\"valve closed, hose replaced\"}");
    assertThat(close.statusCode()).as(close.body()).isEqualTo(200);
    assertThat(body(close).path("state").asText()).isEqualTo("closed");

    JsonNode one = body(f.get(base, Fixture.VIEWER));
    assertThat(one.path("closeNote").asText()).isEqualTo("valve closed, hose replaced");
    List<String> types = new ArrayList<>();
    one.path("history").forEach(e -> types.add(e.path("type").asText()));
    assertThat(types).containsSubsequence("raised", "acknowledged", "cleared", "closed");
    assertThat(one.path("history").get(1).path("actor").asText()).isEqualTo("duty-zhang");
    assertThat(one.path("history").get(1).path("note").asText()).isEqualTo("on my way");
  }

  @Test
  void aNulInANoteIsStoredAsReplacementCharacterSoTheAcknowledgementAndTheCloseSucceed() throws Exception {
    // an officer's script sends a NUL (a C string's end, a fixed-width field): PostgreSQL text
    // cannot hold it; the acknowledgement must not fail, or escalation goes on
    Alarm a = f.raise("gas-106", Severity.CRITICAL, "gas 60 %LEL above level 2");
    String base = "/api/alarms/" + a.id();
    HttpResponse<String> ack = f.post(base + "/ack", Fixture.OFFICER, "{\"note\":\"a\\u0000b\"}");
    assertThat(ack.statusCode()).as(ack.body()).isEqualTo(200);
    assertThat(body(ack).path("state").asText()).isEqualTo("active_acked");
    f.clear("gas-106");
    HttpResponse<String> close =
        f.post(base + "/close", Fixture.OFFICER, "{\"note\":\"checked valve \\u0000 nul\"}");
    assertThat(close.statusCode()).as(close.body()).isEqualTo(200);
    JsonNode one = body(f.get(base, Fixture.VIEWER));
    assertThat(one.path("closeNote").asText()).isEqualTo("checked valve \uFFFD nul");
    assertThat(one.path("history").get(1).path("note").asText()).isEqualTo("a\uFFFDb");
    assertThat(f.ledger.find(a.id()).orElseThrow().state()).isEqualTo(io.safegrid.alerting.ledger.AlarmState.CLOSED);
  }

  @Test
  void anAcknowledgementWhileTheDatabaseIsOutOfReachIsA503SayingTryAgain() throws Exception {
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort(); // nothing listens there once closed
    }
    com.zaxxer.hikari.HikariConfig hc = new com.zaxxer.hikari.HikariConfig();
    hc.setJdbcUrl("jdbc:postgresql://127.0.0.1:" + closedPort + "/safegrid");
    hc.setUsername("safegrid");
    hc.setPassword("safegrid");
    hc.setConnectionTimeout(500);
    hc.setInitializationFailTimeout(-1);
    io.micrometer.prometheusmetrics.PrometheusMeterRegistry registry =
        new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
    try (com.zaxxer.hikari.HikariDataSource gone = new com.zaxxer.hikari.HikariDataSource(hc)) {
      io.safegrid.alerting.ledger.JdbcAlarmLedger ledger = new io.safegrid.alerting.ledger.JdbcAlarmLedger(
          gone, java.time.InstantSource.system(), io.safegrid.alerting.ledger.LedgerConfig.defaults(), registry);
      DashboardServer server = DashboardServer.builder().host("127.0.0.1").port(0).dataSource(gone).alarmService(ledger)
          .tokens(io.safegrid.dashboard.auth.TokenTable.builder().officer(Fixture.OFFICER, "duty-zhang").build())
          .registry(registry).build().start();
      try {
        java.net.http.HttpRequest req = java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + server.port() + "/api/alarms/7/ack"))
            .header("Authorization", "Bearer " + Fixture.OFFICER)
            .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<String> r = f.http.send(req, HttpResponse.BodyHandlers.ofString());
        // before: 500 "internal": the officer could not tell a retry would help
        assertError(r, 503, "database_unavailable");
        assertThat(body(r).path("detail").asText()).contains("try again");
      } finally {
        server.stop();
        ledger.close();
      }
    }
  }

  /** Newcomer7 F29: an unfinished request header no longer holds its socket for ever. */
  @Test
  void aConnectionThatStopsMidHeaderIsClosedAfterTheIdleTimeout() throws Exception {
    DashboardServer server = DashboardServer.builder().host("127.0.0.1").port(0).dataSource(db.dataSource())
        .alarmService(new io.safegrid.alerting.ledger.JdbcAlarmLedger(db.dataSource(), java.time.InstantSource.system(),
            io.safegrid.alerting.ledger.LedgerConfig.defaults(), new io.micrometer.core.instrument.simple.SimpleMeterRegistry()))
        .tokens(io.safegrid.dashboard.auth.TokenTable.builder().build())
        .registry(new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
            io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT))
        .bindJvmMetrics(false).idleTimeout(Duration.ofSeconds(2)).build().start();
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", server.port())) {
      s.getOutputStream().write("GET /api/health HTTP/1.1\r\nHost: x\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      s.setSoTimeout(15_000);
      long t0 = System.nanoTime();
      int read = s.getInputStream().read(); // -1 once the server closed it (before: blocked for ever)
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(read).isEqualTo(-1);
      assertThat(ms).as("closed after the 2 s idle timeout").isBetween(1_000L, 10_000L);
    } finally {
      server.stop();
    }
  }

  /** review6 #13: the 405 list is read from the router, so a route bound later cannot be missing from it. */
  @Test
  void the405ListIsTheRoutersOwnRoutes() {
    io.vertx.ext.web.Router router = io.vertx.ext.web.Router.router(f.server.vertx());
    router.route("/api/*").handler(io.vertx.ext.web.RoutingContext::next); // auth-like catch-all: any method
    router.get("/api/things").handler(io.vertx.ext.web.RoutingContext::next);
    router.post("/api/things/:id/poke").handler(io.vertx.ext.web.RoutingContext::next);
    router.put("/api/things/:id").handler(io.vertx.ext.web.RoutingContext::next);
    router.get("/metrics").handler(io.vertx.ext.web.RoutingContext::next);
    io.safegrid.dashboard.http.AllowedMethods allowed =
        new io.safegrid.dashboard.http.AllowedMethods().addRoutes(router.getRoutes(), "/api/");
    assertThat(allowed.allowed("/api/things")).containsExactly(io.vertx.core.http.HttpMethod.GET);
    assertThat(allowed.allowed("/api/things/7/poke")).containsExactly(io.vertx.core.http.HttpMethod.POST);
    assertThat(allowed.allowed("/api/things/7")).containsExactly(io.vertx.core.http.HttpMethod.PUT);
    assertThat(allowed.allowed("/api/other")).isEmpty();
    assertThat(allowed.allowed("/metrics")).as("outside the prefix").isEmpty();
  }

  @Test
  void aWrongMethodIs405WithAllowAndAnUnknownDeviceTypeIsA400NamingTheTypes() throws Exception {
    Alarm a = f.raise("gas-107", Severity.MINOR, "battery low");
    HttpResponse<String> get = f.get("/api/alarms/" + a.id() + "/ack", Fixture.OFFICER);
    assertError(get, 405, "method_not_allowed");
    assertThat(get.headers().firstValue("Allow")).hasValue("POST");
    HttpResponse<String> post = f.post("/api/alarms/" + a.id(), Fixture.OFFICER, "{}");
    assertError(post, 405, "method_not_allowed");
    assertThat(post.headers().firstValue("Allow")).hasValue("GET");
    assertError(f.post("/api/devices", Fixture.OFFICER, "{}"), 405, "method_not_allowed");
    assertError(f.get("/api/alarms/" + a.id() + "/nothing", Fixture.OFFICER), 404, "not_found");
    assertError(f.post("/api/nothing-here", Fixture.OFFICER, "{}"), 404, "not_found");
    HttpResponse<String> snapshot = f.post("/api/live/snapshot", Fixture.OFFICER, "{}");
    assertError(snapshot, 405, "method_not_allowed");
    assertThat(snapshot.headers().firstValue("Allow")).hasValue("GET");
    assertThat(f.ledger.find(a.id()).orElseThrow().state()).isEqualTo(io.safegrid.alerting.ledger.AlarmState.ACTIVE_UNACKED);

    HttpResponse<String> toaster = f.get("/api/devices?type=toaster", Fixture.VIEWER);
    assertError(toaster, 400, "bad_type");
    assertThat(body(toaster).path("detail").asText()).contains("toaster").contains("gas_alarm, fire_panel, river_gauge");
    assertThat(body(f.get("/api/devices?type=gas_alarm", Fixture.VIEWER)).path("count").asInt()).isEqualTo(2);
    assertError(f.get("/api/devices?community=a%00b", Fixture.VIEWER), 400, "bad_filter");

    HttpResponse<String> wide =
        f.get("/api/devices/gas-001/readings?from=2000-01-01T00:00:00Z&to=2026-11-29T00:00:00Z", Fixture.VIEWER);
    assertError(wide, 400, "range_too_wide");
    assertThat(body(wide).path("detail").asText())
        .isEqualTo("the range from 2000-01-01T00:00:00Z to 2026-11-29T00:00:00Z is 9829 days wide, more than 366 days");
  }

  @Test
  void badIdsTimesAndParametersAreClear400sAndUnknownThingsAre404() throws Exception {
    String t = Fixture.VIEWER;
    assertError(f.get("/api/alarms/abc", t), 400, "bad_alarm_id");
    assertError(f.get("/api/alarms/-3", t), 400, "bad_alarm_id");
    assertError(f.get("/api/alarms/987654321", t), 404, "not_found");
    assertError(f.post("/api/alarms/987654321/ack", Fixture.OFFICER, null), 404, "not_found");
    assertError(f.get("/api/alarms?state=burning", t), 400, "bad_state");
    assertError(f.get("/api/alarms?limit=0", t), 400, "bad_limit");
    assertError(f.get("/api/alarms?limit=5000", t), 400, "bad_limit");
    assertError(f.get("/api/alarms?offset=-1", t), 400, "bad_offset");
    assertError(f.get("/api/devices/GAS_001", t), 400, "bad_device_id");
    assertError(f.get("/api/devices/gas-999", t), 404, "not_found");
    assertError(f.get("/api/devices/gas-999/readings", t), 404, "not_found");
    assertError(f.get("/api/devices/gas-001/readings?from=yesterday", t), 400, "bad_time");
    assertError(f.get("/api/devices/gas-001/readings?to=2026-13-01T00:00:00Z", t), 400, "bad_time");
    assertError(
        f.get("/api/devices/gas-001/readings?from=2026-11-29T10:00:00Z&to=2026-11-29T09:00:00Z", t),
        400,
        "bad_range");
    assertError(f.get("/api/devices/gas-001/readings?bucket=fast", t), 400, "bad_bucket");
    assertError(f.get("/api/devices/gas-001/readings?bucket=500ms", t), 400, "bad_bucket");
    HttpResponse<String> small =
        f.get(
            "/api/devices/gas-001/readings?from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z&bucket=1m",
            t);
    assertError(small, 400, "bucket_too_small");
    assertThat(body(small).path("detail").asText()).contains("at least");
    assertError(f.get("/api/devices/gas-001/readings?metric=Gas%20LEL", t), 400, "bad_metric");
    assertError(f.get("/api/live?lastEventId=abc&access_token=" + t, null), 400, "bad_event_id");
    assertError(f.get("/api/live?readings=Not_An_Id&access_token=" + t, null), 400, "bad_device_id");
    assertError(f.get("/api/nothing-here", t), 404, "not_found");
  }

  @Test
  void devicesCarryTheirPlaceLastReadingsAndOnlineStateButNoSecrets() throws Exception {
    f.server.liveFeed().deviceStatus("gas-001", true, System.currentTimeMillis(), "connect");
    JsonNode list = body(f.get("/api/devices", Fixture.VIEWER));
    assertThat(list.path("count").asInt()).isEqualTo(3);
    JsonNode gas = null;
    for (JsonNode d : list.path("devices")) {
      if (d.path("id").asText().equals("gas-001")) {
        gas = d;
      }
      assertThat(d.has("secret")).isFalse();
    }
    assertThat(gas).isNotNull();
    assertThat(gas.path("type").asText()).isEqualTo("gas_alarm");
    assertThat(gas.path("compound").asText()).isEqualTo("nanmen-new-city");
    assertThat(gas.path("premises").asText()).isEqualTo("老火锅 Old Hotpot");
    assertThat(gas.path("online").asBoolean()).isTrue();
    assertThat(gas.path("lastReadings").path("gas_lel").path("value").asDouble()).isEqualTo(59.0);

    JsonNode filtered = body(f.get("/api/devices?type=river_gauge", Fixture.VIEWER));
    assertThat(filtered.path("count").asInt()).isEqualTo(1);

    JsonNode one = body(f.get("/api/devices/river-jialing-1", Fixture.VIEWER));
    assertThat(one.path("lastReadings").path("level_m").path("value").asDouble()).isEqualTo(268.4);
    assertThat(one.path("online").isNull()).isTrue();
  }

  @Test
  void readingsComeRawOrDownsampledWithTimeBucket() throws Exception {
    Instant from = f.seededAt.minus(Duration.ofMinutes(61));
    Instant to = f.seededAt;
    JsonNode raw =
        body(
            f.get(
                "/api/devices/gas-001/readings?metric=gas_lel&from=" + from + "&to=" + to,
                Fixture.VIEWER));
    assertThat(raw.path("series")).hasSize(1);
    assertThat(raw.path("series").get(0).path("metric").asText()).isEqualTo("gas_lel");
    assertThat(raw.path("series").get(0).path("points")).hasSize(60);
    assertThat(raw.path("series").get(0).path("points").get(59).path("value").asDouble()).isEqualTo(59.0);

    // epoch milliseconds work too; all metrics without metric=
    JsonNode both =
        body(
            f.get(
                "/api/devices/gas-001/readings?from=" + from.toEpochMilli() + "&to=" + to.toEpochMilli(),
                Fixture.VIEWER));
    assertThat(both.path("series")).hasSize(2);

    JsonNode bucketed =
        body(
            f.get(
                "/api/devices/gas-001/readings?metric=gas_lel&bucket=PT30M&from="
                    + from
                    + "&to="
                    + to.plusSeconds(1),
                Fixture.VIEWER));
    JsonNode points = bucketed.path("series").get(0).path("points");
    assertThat(bucketed.path("bucket").asText()).isEqualTo("PT30M");
    long total = 0;
    double max = 0;
    for (JsonNode p : points) {
      total += p.path("count").asLong();
      max = Math.max(max, p.path("max").asDouble());
      assertThat(p.path("min").asDouble()).isLessThanOrEqualTo(p.path("value").asDouble());
    }
    assertThat(points.size()).isBetween(2, 3);
    assertThat(total).isEqualTo(60);
    assertThat(max).isEqualTo(59.0);
    JsonNode fiveMin =
        body(f.get("/api/devices/gas-001/readings?metric=gas_lel&bucket=5m&from=" + from + "&to=" + to.plusSeconds(1), Fixture.VIEWER));
    assertThat(fiveMin.path("series").get(0).path("points").size()).isBetween(12, 13);
  }

  @Test
  void alarmsAreFilteredByStateAndPaged() throws Exception {
    f.raise("gas-201", Severity.MAJOR, "a");
    f.raise("gas-202", Severity.CRITICAL, "b");
    f.raise("gas-203", Severity.WARNING, "c");
    JsonNode page1 = body(f.get("/api/alarms?state=active_unacked&limit=2", Fixture.VIEWER));
    assertThat(page1.path("alarms")).hasSize(2);
    assertThat(page1.path("nextOffset").asInt()).isEqualTo(2);
    assertThat(page1.path("alarms").get(0).path("severity").asText()).isEqualTo("critical");
    JsonNode all = body(f.get("/api/alarms?state=open&limit=1000", Fixture.VIEWER));
    int n = all.path("alarms").size();
    JsonNode last = body(f.get("/api/alarms?state=open&limit=1000&offset=" + (n - 1), Fixture.VIEWER));
    assertThat(last.path("alarms")).hasSize(1);
    assertThat(last.path("nextOffset").isNull()).isTrue();
    JsonNode closed = body(f.get("/api/alarms?state=closed", Fixture.VIEWER));
    for (JsonNode a : closed.path("alarms")) {
      assertThat(a.path("state").asText()).isEqualTo("closed");
    }
  }

  @Test
  void metricsArePrometheusTextWithJvmNettyHikariAndOurs() throws Exception {
    f.get("/api/devices", Fixture.VIEWER);
    f.get("/api/alarms/abc", Fixture.VIEWER);
    HttpResponse<String> r = f.get("/metrics", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
    assertThat(r.body())
        .contains("jvm_memory_used_bytes")
        .contains("netty_allocator_memory_used")
        .contains("hikaricp_connections")
        .contains("safegrid_live_clients")
        .contains("safegrid_http_requests_seconds_count{method=\"GET\",route=\"/api/devices\",status=\"200\"}")
        .contains("safegrid_http_rejected_total{error=\"bad_alarm_id\",status=\"400\"}")
        .contains("vertx_http_server_requests_total");
  }

  @Test
  void theOpenApiDocumentAndThePageAreServed() throws Exception {
    HttpResponse<String> api = f.get("/api/openapi.yaml", Fixture.VIEWER);
    assertThat(api.statusCode()).isEqualTo(200);
    assertThat(api.body()).contains("openapi: 3").contains("/api/live").contains("Last-Event-ID");
    HttpResponse<String> page = f.get("/", null);
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("<html").contains("app.js");
    assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(v -> assertThat(v).contains("default-src 'self'"));
    JsonNode grid = body(f.get("/api/grid", Fixture.VIEWER));
    assertThat(grid.path("communities").get(0).path("children").get(0).path("name").asText()).contains("南门新城");
  }
}
