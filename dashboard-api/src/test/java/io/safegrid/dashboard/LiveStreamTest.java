package io.safegrid.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.dashboard.SseTestClient.Event;
import io.safegrid.model.Reading;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The live stream as an EventSource sees it: snapshot then stream, resume after a dropped
 * connection with Last-Event-ID (no loss, no duplicate), filtered readings, device states, and a
 * slow client dropped without slowing the publisher.
 */
class LiveStreamTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  private static final ObjectMapper json = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static Fixture f;

  @BeforeAll
  static void start() throws Exception {
    f = new Fixture(db.dataSource(), 256);
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  private static String live(String query) {
    return "/api/live?access_token=" + Fixture.VIEWER + (query.isEmpty() ? "" : "&" + query);
  }

  private static JsonNode data(Event e) throws Exception {
    return json.readTree(e.data());
  }

  private static long id(Event e) {
    return Long.parseLong(e.id());
  }

  @Test
  void resumeAfterADroppedConnectionDeliversEveryAlarmEventOnceInOrder() throws Exception {
    Alarm a = f.raise("gas-301", Severity.MAJOR, "A: gas 31 %LEL above level 1");
    JsonNode snapshot = json.readTree(f.get("/api/live/snapshot", Fixture.VIEWER).body());
    long fromSnapshot = snapshot.path("lastEventId").asLong();
    List<Long> openIds = new ArrayList<>();
    snapshot.path("alarms").forEach(x -> openIds.add(x.path("id").asLong()));
    assertThat(openIds).contains(a.id());

    long lastSeen;
    try (SseTestClient c1 = SseTestClient.open(f.port(), live("lastEventId=" + fromSnapshot), Map.of())) {
      assertThat(c1.awaitStatus()).isEqualTo(200);
      assertThat(c1.headers().get("content-type")).startsWith("text/event-stream");
      long writesBefore = f.registry.timer("safegrid.live.write.delay").count();
      Alarm c = f.raise("gas-302", Severity.WARNING, "C: live while connected");
      Event seen = c1.await(e -> "alarm".equals(e.event()) && e.data().contains("\"alarmId\":" + c.id()), WAIT);
      assertThat(data(seen).path("type").asText()).isEqualTo("raised");
      assertThat(data(seen).path("alarm").path("state").asText()).isEqualTo("active_unacked");
      // the live frame's fan-out -> write is timed (the stage after safegrid.live.alarm.age). C may
      // have come with the connection's replay (not timed: it committed while the replay read the
      // table), so time one raised after C was seen: by then the replay has written, and E is
      // written live or by the replay's closing drain, both timed
      Alarm e2 = f.raise("gas-305", Severity.WARNING, "E: live after C");
      Event seenE = c1.await(e -> "alarm".equals(e.event()) && e.data().contains("\"alarmId\":" + e2.id()), WAIT);
      // (recorded on the event loop right after the write: the client may read the frame first)
      await().atMost(WAIT).until(() -> f.registry.timer("safegrid.live.write.delay").count() > writesBefore);
      lastSeen = id(seenE);
      assertThat(c1.events("alarm")).extracting(Event::id).doesNotHaveDuplicates();
    } // the connection drops here

    // during the gap: B is raised, A clears
    Alarm b = f.raise("gas-303", Severity.CRITICAL, "B: gas 55 %LEL above level 2");
    f.clear("gas-301");
    List<Long> expected = f.ledger.eventsAfter(lastSeen, 1000).stream().map(AlarmEvent::id).toList();
    assertThat(expected).hasSizeGreaterThanOrEqualTo(2);

    try (SseTestClient c2 =
        SseTestClient.open(f.port(), live(""), Map.of("Last-Event-ID", Long.toString(lastSeen)))) {
      assertThat(c2.awaitStatus()).isEqualTo(200);
      Event bRaised = c2.await(e -> e.data().contains("\"alarmId\":" + b.id()), WAIT);
      Event aCleared = c2.await(e -> e.data().contains("\"alarmId\":" + a.id()), WAIT);
      assertThat(data(bRaised).path("type").asText()).isEqualTo("raised");
      assertThat(data(aCleared).path("type").asText()).isEqualTo("cleared");
      assertThat(data(aCleared).path("toState").asText()).isEqualTo("cleared_unacked");
      // and live again after the replay
      Alarm d = f.raise("gas-304", Severity.MINOR, "D: after the reconnect");
      c2.await(e -> e.data().contains("\"alarmId\":" + d.id()), WAIT);
      List<Long> got = c2.events("alarm").stream().map(LiveStreamTest::id).toList();
      List<Long> want = f.ledger.eventsAfter(lastSeen, 1000).stream().map(AlarmEvent::id).toList();
      assertThat(got).doesNotHaveDuplicates().isSortedAccordingTo(Long::compare);
      assertThat(got).containsExactlyElementsOf(want);
      assertThat(got).doesNotContain(lastSeen);
    }
  }

  @Test
  void eventsCommittedWhileTheReplayRunsAreNeitherLostNorDoubled() throws Exception {
    long start = f.ledger.maxEventId();
    for (int i = 0; i < 20; i++) {
      f.raise("gas-4" + String.format("%02d", i), Severity.MAJOR, "before the reconnect " + i);
    }
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      // raises keep committing while the client reconnects: some land in the replay, some in the
      // buffer, some both; the seam must hide that
      Future<?> writer =
          pool.submit(
              () -> {
                for (int i = 0; i < 40; i++) {
                  f.raise("gas-5" + String.format("%02d", i), Severity.MINOR, "during " + i);
                }
              });
      try (SseTestClient c =
          SseTestClient.open(f.port(), live(""), Map.of("Last-Event-ID", Long.toString(start)))) {
        writer.get();
        long max = f.ledger.maxEventId();
        await().atMost(WAIT).until(() -> c.events("alarm").stream().anyMatch(e -> id(e) == max));
        List<Long> got = c.events("alarm").stream().map(LiveStreamTest::id).toList();
        List<Long> want = f.ledger.eventsAfter(start, 10_000).stream().map(AlarmEvent::id).toList();
        assertThat(got).containsExactlyElementsOf(want);
        assertThat(new HashSet<>(got)).hasSize(60);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void eventsCommittedBetweenSubscribeAndReplayAreSentOnceAtTheSeam() throws Exception {
    GatedReplayAlarmService gated = new GatedReplayAlarmService(f.ledger);
    DashboardServer second =
        DashboardServer.builder()
            .host("127.0.0.1")
            .port(0)
            .dataSource(f.dataSource)
            .alarmService(gated)
            .tokens(io.safegrid.dashboard.auth.TokenTable.builder().viewer(Fixture.VIEWER, "screen").build())
            .bindJvmMetrics(false)
            .build()
            .start();
    try {
      long start = f.ledger.maxEventId();
      Alarm before = f.raise("gas-701", Severity.MAJOR, "committed before the reconnect");
      try (SseTestClient c =
          SseTestClient.open(
              second.port(),
              live(""),
              Map.of("Last-Event-ID", Long.toString(start)))) {
        assertThat(c.awaitStatus()).isEqualTo(200);
        assertThat(gated.replayAsked.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        // subscribed, replay not read yet: these reach the client's buffer AND the replay
        for (int i = 0; i < 5; i++) {
          f.raise("gas-71" + i, Severity.MINOR, "committed at the seam " + i);
        }
        long seamMax = f.ledger.maxEventId();
        await().atMost(WAIT).until(() -> second.liveFeed().lastAlarmEventId() >= seamMax);
        gated.gate.countDown();
        Alarm after = f.raise("gas-720", Severity.WARNING, "committed after the replay");
        c.await(e -> e.data().contains("\"alarmId\":" + after.id()), WAIT);
        List<Long> got = c.events("alarm").stream().map(LiveStreamTest::id).toList();
        List<Long> want = f.ledger.eventsAfter(start, 1000).stream().map(AlarmEvent::id).toList();
        assertThat(got).as("each event once, in id order").containsExactlyElementsOf(want);
        assertThat(c.events("alarm").get(0).data()).contains("\"alarmId\":" + before.id());
      }
    } finally {
      gated.gate.countDown();
      second.stop();
    }
  }

  @Test
  void anIdAboveTheLedgersNewestIsAnsweredWithResetAndTheStreamGoesOnLive() throws Exception {
    // the page's id came from a database since dropped and recreated: this ledger never gave it out
    f.raise("gas-801", Severity.MAJOR, "before the page's id");
    long fromOldLedger = f.ledger.maxEventId() + 700;
    Counter resets = f.registry.counter("safegrid.live.resets", "reason", "unknown_event_id");
    double before = resets.count();
    int round = 0;
    for (Map<String, String> header : List.of(Map.of("Last-Event-ID", Long.toString(fromOldLedger)), Map.<String, String>of())) {
      String device = "gas-81" + round++;
      long newest = f.ledger.maxEventId();
      String target = header.isEmpty() ? live("lastEventId=" + fromOldLedger) : live("");
      try (SseTestClient c = SseTestClient.open(f.port(), target, header)) {
        assertThat(c.awaitStatus()).isEqualTo(200);
        Event reset = c.await(e -> "reset".equals(e.event()), WAIT);
        assertThat(data(reset).path("reason").asText()).isEqualTo("unknown_event_id");
        assertThat(data(reset).path("detail").asText())
            .contains(Long.toString(fromOldLedger))
            .contains("newest alarm event id " + newest)
            .contains("reload /api/live/snapshot");
        // a client that does not reload still gets what this ledger raises next, though its id
        // is below the one it came with
        Alarm next = f.raise(device, Severity.CRITICAL, "after the database was recreated");
        Event raised = c.await(e -> e.data().contains("\"alarmId\":" + next.id()), WAIT);
        assertThat(id(raised)).isLessThan(fromOldLedger);
        assertThat(c.events("reset")).hasSize(1);
      }
    }
    assertThat(resets.count() - before).isEqualTo(2);
    // an id this ledger gave out is not reset
    try (SseTestClient c =
        SseTestClient.open(f.port(), live(""), Map.of("Last-Event-ID", Long.toString(f.ledger.maxEventId())))) {
      assertThat(c.awaitStatus()).isEqualTo(200);
      Alarm next = f.raise("gas-803", Severity.MINOR, "resumed at the newest id");
      c.await(e -> e.data().contains("\"alarmId\":" + next.id()), WAIT);
      assertThat(c.events("reset")).isEmpty();
    }
  }

  @Test
  void readingsReachOnlyClientsThatAskedForTheDeviceAndDeviceStatesReachAll() throws Exception {
    try (SseTestClient gasOnly = SseTestClient.open(f.port(), live("readings=gas-001,river-jialing-1"), Map.of());
        SseTestClient none = SseTestClient.open(f.port(), live(""), Map.of())) {
      assertThat(gasOnly.awaitStatus()).isEqualTo(200);
      assertThat(none.awaitStatus()).isEqualTo(200);
      await().atMost(WAIT).until(() -> f.server.liveFeed().clients() >= 2);
      f.server.liveFeed().reading(Reading.of("gas-002", "gas_lel", System.currentTimeMillis(), 7.5));
      f.server.liveFeed().reading(Reading.of("gas-001", "gas_lel", System.currentTimeMillis(), 26.5));
      f.server.liveFeed().deviceStatus("gas-002", false, System.currentTimeMillis(), "lwt");
      Event r = gasOnly.await(e -> "reading".equals(e.event()), WAIT);
      assertThat(data(r).path("deviceId").asText()).isEqualTo("gas-001");
      assertThat(data(r).path("value").asDouble()).isEqualTo(26.5);
      assertThat(r.id()).as("reading events carry no id: they must not move Last-Event-ID").isNull();
      Event d = none.await(e -> "device".equals(e.event()), WAIT);
      assertThat(data(d).path("online").asBoolean()).isFalse();
      assertThat(data(d).path("reason").asText()).isEqualTo("lwt");
      gasOnly.await(e -> "device".equals(e.event()), WAIT);
      assertThat(gasOnly.events("reading")).hasSize(1);
      assertThat(none.events("reading")).isEmpty();
    }
    JsonNode snapshot = json.readTree(f.get("/api/live/snapshot", Fixture.VIEWER).body());
    assertThat(snapshot.path("devices").toString()).contains("\"deviceId\":\"gas-002\",\"online\":false");
  }

  @Test
  void aSlowClientIsDroppedWithAReasonAndNeverSlowsThePublisher() throws Exception {
    Counter dropped = f.registry.counter("safegrid.live.dropped", "reason", "slow_client");
    double before = dropped.count();
    try (SseTestClient fast = SseTestClient.open(f.port(), live("readings=gas-002"), Map.of());
        SseTestClient slow = SseTestClient.open(f.port(), live("readings=gas-002"), Map.of(), false)) {
      assertThat(fast.awaitStatus()).isEqualTo(200);
      await().atMost(WAIT).until(() -> f.server.liveFeed().clients() >= 2);
      // ~1 kB per event: 20,000 of them overflow any socket buffer of a client that never reads
      String metric = "gas_lel_" + "x".repeat(1000);
      long now = System.currentTimeMillis();
      int n = 20_000;
      java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
      long publishCpuNanos = 0;
      long maxCallNanos = 0;
      int base = fast.count();
      for (int i = 0; i < n; i++) {
        long c0 = cpu.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        f.server.liveFeed().reading(Reading.of("gas-002", metric, now + i, i));
        maxCallNanos = Math.max(maxCallNanos, System.nanoTime() - t0);
        publishCpuNanos += cpu.getCurrentThreadCpuTime() - c0;
        if (i % 64 == 63) {
          // pace the stream so the reading client keeps up even on a loaded machine
          int sent = i + 1;
          long deadline = System.nanoTime() + WAIT.toNanos();
          while (fast.count() - base < sent - 128 && System.nanoTime() < deadline) {
            Thread.sleep(1);
          }
        }
      }
      org.slf4j.LoggerFactory.getLogger(LiveStreamTest.class)
          .info(
              "published {} readings (1 kB events) to 2 clients, one never reading:"
                  + " {} ns CPU per LiveFeed.reading call, slowest call {} ms wall",
              n,
              publishCpuNanos / n,
              maxCallNanos / 1_000_000);
      await().atMost(WAIT).until(() -> dropped.count() > before);
      // a publisher that waited for the slow client would stall here for good (it never reads);
      // CPU time, not wall time: the shared machine preempts the test thread at will
      assertThat(maxCallNanos / 1_000_000).as("no publish call waits for a client").isLessThan(2_000);
      assertThat(publishCpuNanos / n).as("CPU per published reading, ns").isLessThan(200_000);
      await().atMost(WAIT).until(() -> f.server.liveFeed().clients() == 1);
      // the fast client is still served
      f.server.liveFeed().reading(Reading.of("gas-002", "gas_lel", now + n + 1, -1));
      fast.await(e -> e.data().contains("\"value\":-1.0"), WAIT);
      assertThat(f.get("/metrics", null).body()).contains("safegrid_live_dropped_total{reason=\"slow_client\"}");
    }
  }

  @Test
  void theStreamNeedsAToken() throws Exception {
    try (SseTestClient c = SseTestClient.open(f.port(), "/api/live", Map.of())) {
      assertThat(c.awaitStatus()).isEqualTo(401);
    }
    try (SseTestClient c =
        SseTestClient.open(f.port(), "/api/live", Map.of("Authorization", "Bearer " + Fixture.OFFICER))) {
      assertThat(c.awaitStatus()).isEqualTo(200);
    }
  }
}
