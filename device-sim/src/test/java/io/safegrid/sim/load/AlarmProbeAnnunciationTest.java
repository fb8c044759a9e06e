package io.safegrid.sim.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.safegrid.sim.link.DeviceLink;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alarm probe times each crossing twice, apart: publish to the gateway's {@code event:
 * annunciation} (the rule engine's decision, before the ledger) and publish to its {@code event:
 * alarm} (after the ledger's commit). The gateway is played by a local SSE server (JDK HttpServer,
 * loopback) that answers each crossing the probe publishes with the events a gateway sends; the
 * probe devices' links are stand-ins that hand each publish to it.
 */
class AlarmProbeAnnunciationTest {

  private static final Pattern TS = Pattern.compile("\"ts\":(\\d+).*\"gas_lel\":([0-9.]+)");
  /** How long after the annunciation the stand-in gateway sends the ledger's alarm event, ms. */
  private static final long LEDGER_DELAY_MS = 150;

  private HttpServer server;
  private final LinkedBlockingQueue<String> frames = new LinkedBlockingQueue<>();
  private volatile boolean closed;
  private final ScheduledExecutorService gateway = Executors.newSingleThreadScheduledExecutor();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private final Recorder alarms = new Recorder(3600L * 1_000_000, 3);
  private final Recorder annunciations = new Recorder(3600L * 1_000_000, 3);
  /** crossing ts of each crossing published, in order. */
  private final List<Long> crossingTs = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/api/live", this::serve);
    server.start();
  }

  @AfterEach
  void stop() {
    closed = true;
    server.stop(0);
    gateway.shutdownNow();
    scheduler.shutdownNow();
  }

  /** One SSE stream: the frames queued, each flushed at once, until the test ends. */
  private void serve(HttpExchange x) throws IOException {
    x.getResponseHeaders().set("Content-Type", "text/event-stream");
    x.sendResponseHeaders(200, 0);
    try (OutputStream out = x.getResponseBody()) {
      out.write(": hello\n\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      while (!closed) {
        String f = frames.poll(100, TimeUnit.MILLISECONDS);
        if (f != null) {
          out.write(f.getBytes(StandardCharsets.UTF_8));
          out.flush();
        }
      }
    } catch (InterruptedException | IOException e) {
      // the test is over
    }
  }

  private static String annunciation(String device, long ts, String kind, String extra) {
    return "event: annunciation\ndata: {\"annunciationId\":" + ts % 100_000 + ",\"deviceId\":\"" + device
        + "\",\"ruleId\":\"gas-high\",\"kind\":\"" + kind + "\",\"severity\":\"major\",\"message\":\"gas 60.0 %LEL\","
        + "\"evidence\":{\"value\":60.0,\"reading_time_ms\":" + ts + "},\"eventTime\":\"2026-11-30T13:00:00Z\","
        + "\"decidedAt\":\"2026-11-30T13:00:00.001Z\"" + extra + "}\n\n";
  }

  private static String alarm(String device, long ts, long id) {
    return "id: " + id + "\nevent: alarm\ndata: {\"type\":\"reopened\",\"alarm\":{\"id\":7,\"deviceId\":\"" + device
        + "\",\"ruleId\":\"gas-high\",\"state\":\"active_unacked\",\"severity\":\"major\","
        + "\"evidence\":{\"value\":60.0,\"reading_time_ms\":" + ts + "}}}\n\n";
  }

  /** A probe device's link: each publish is acknowledged at once and handed to {@code onCrossing} if it crosses. */
  private DeviceLink link(String device, BiConsumer<String, Long> onCrossing) {
    return new DeviceLink() {
      @Override
      public CompletableFuture<Void> connect() {
        return CompletableFuture.completedFuture(null);
      }

      @Override
      public CompletableFuture<Void> publish(String channel, byte[] payload, int qos) {
        Matcher m = TS.matcher(new String(payload, StandardCharsets.UTF_8));
        if (m.find() && Double.parseDouble(m.group(2)) >= 25) {
          long ts = Long.parseLong(m.group(1));
          crossingTs.add(ts);
          onCrossing.accept(device, ts);
        }
        return CompletableFuture.completedFuture(null);
      }

      @Override
      public void drop() {}

      @Override
      public boolean isConnected() {
        return true;
      }

      @Override
      public int inFlight() {
        return 0;
      }

      @Override
      public void close() {}
    };
  }

  private AlarmProbe probe(BiConsumer<String, Long> gatewayAnswer) {
    Map<String, DeviceLink> links = new LinkedHashMap<>();
    for (String d : List.of("gas-116", "gas-117")) {
      links.put(d, link(d, gatewayAnswer));
    }
    AlarmProbe p = new AlarmProbe("http://127.0.0.1:" + server.getAddress().getPort(), "tok", links, alarms,
        annunciations);
    await().atMost(Duration.ofSeconds(10)).until(p::streaming);
    return p;
  }

  /** Runs the probe's crossings until {@code n} were published and every answer had time to come. */
  private void cross(AlarmProbe p, int n) throws InterruptedException {
    p.start(scheduler, 0, 400, 0);
    await().atMost(Duration.ofSeconds(20)).until(() -> p.crossings() >= n);
    p.stop();
    Thread.sleep(LEDGER_DELAY_MS + 500);
  }

  private static Map<Long, Long> samplesByTs(Path file) throws IOException {
    Map<Long, Long> m = new HashMap<>();
    for (String line : Files.readAllLines(file)) {
      String[] c = line.split(",");
      assertThat(c).as("crossing ts, device, µs, publish ns, read ns: %s", line).hasSize(5);
      assertThat(Long.parseLong(c[4]) - Long.parseLong(c[3])).as("read - publish, ns").isGreaterThanOrEqualTo(0);
      m.put(Long.parseLong(c[0]), Long.parseLong(c[2]));
    }
    return m;
  }

  @Test
  void eachCrossingIsTimedToItsAnnunciationAndToItsAlarmApart(@TempDir Path dir) throws Exception {
    long[] ids = {100};
    AlarmProbe p = probe((device, ts) -> {
      frames.add(annunciation(device, ts, "raise", ""));
      gateway.schedule(() -> frames.add(alarm(device, ts, ++ids[0])), LEDGER_DELAY_MS, TimeUnit.MILLISECONDS);
    });
    p.samplesTo(dir.resolve("alarm.csv"));
    p.annunciationSamplesTo(dir.resolve("annunciation.csv"));
    try (p) {
      cross(p, 6);
    }
    long n = p.crossings();
    assertThat(p.samples()).as("alarm samples").isEqualTo(n);
    assertThat(p.annunciationSamples()).as("annunciation samples").isEqualTo(n);
    assertThat(p.unmatched()).isZero();
    assertThat(p.annunciationUnmatched()).isZero();
    Histogram a = alarms.getIntervalHistogram();
    Histogram b = annunciations.getIntervalHistogram();
    assertThat(a.getTotalCount()).isEqualTo(n);
    assertThat(b.getTotalCount()).isEqualTo(n);
    assertThat(a.getMinValue()).as("every alarm sample includes the ledger's %d ms", LEDGER_DELAY_MS)
        .isGreaterThanOrEqualTo(LEDGER_DELAY_MS * 1000);

    Map<Long, Long> alarmFile = samplesByTs(dir.resolve("alarm.csv"));
    Map<Long, Long> annFile = samplesByTs(dir.resolve("annunciation.csv"));
    assertThat(alarmFile.keySet()).containsExactlyInAnyOrderElementsOf(crossingTs);
    assertThat(annFile.keySet()).containsExactlyInAnyOrderElementsOf(crossingTs);
    for (long ts : crossingTs) {
      assertThat(annFile.get(ts)).as("crossing %d: timed to its annunciation, %d ms before its alarm", ts,
          LEDGER_DELAY_MS).isLessThan(alarmFile.get(ts));
    }
  }

  @Test
  void anAnnunciationIsNeverAnAlarmSampleNorIsAGivenUpOneOrAnotherDevicesOrAClear(@TempDir Path dir)
      throws Exception {
    AlarmProbe p = probe((device, ts) -> {
      frames.add(annunciation("gas-001", ts, "raise", "")); // not a probe device
      frames.add(annunciation(device, ts, "clear", "")); // not a raise
      frames.add(annunciation(device, ts, "raise", ""));
      frames.add(annunciation(device, ts, "raise", ",\"status\":\"given_up\"")); // settled, sent again
      frames.add(annunciation(device, ts, "raise", "")); // the same again (a stream reconnect): unmatched
    });
    p.samplesTo(dir.resolve("alarm.csv"));
    try (p) {
      cross(p, 4);
    }
    long n = p.crossings();
    assertThat(p.annunciationSamples()).isEqualTo(n);
    assertThat(p.annunciationUnmatched()).as("the repeats").isEqualTo(n);
    assertThat(p.samples()).as("no event: alarm came: no alarm sample").isZero();
    assertThat(p.unmatched()).isZero();
    assertThat(alarms.getIntervalHistogram().getTotalCount()).isZero();
    assertThat(annunciations.getIntervalHistogram().getTotalCount()).isEqualTo(n);
    assertThat(Files.readAllLines(dir.resolve("alarm.csv"))).isEmpty();
  }

  @Test
  void againstAGatewayWithoutAnnunciationsOnlyTheAlarmIsTimedAndTheReportSaysSo() throws Exception {
    long[] ids = {100};
    AlarmProbe p = probe((device, ts) -> frames.add(alarm(device, ts, ++ids[0])));
    try (p) {
      cross(p, 4);
    }
    long n = p.crossings();
    assertThat(p.samples()).isEqualTo(n);
    assertThat(p.annunciationSamples()).isZero();
    assertThat(p.annunciationUnmatched()).isZero();
    assertThat(annunciations.getIntervalHistogram().getTotalCount()).isZero();
    LoadSummary.Probe summary = new LoadSummary.Probe(p.deviceIds(), 400, n, p.samples(), p.unmatched(),
        p.annunciationSamples(), p.annunciationUnmatched());
    assertThat(LoadRunner.annunciationLine(Percentiles.of(new Histogram(3)), summary))
        .startsWith("publish-to-annunciation: no samples (" + n + " crossings, 0 unmatched)");
  }
}
