package io.safegrid.alerting.trace;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.alerting.ledger.AlarmState;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Reading;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class AlarmPathTraceTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @TempDir Path dir;

  private static final long TS = 1_796_000_000_123L;

  private static AlarmTransition raise(String device, long ts) {
    return new AlarmTransition(device, "gas-lel-threshold", AlarmTransition.Kind.RAISE, Severity.MAJOR, ts,
        "gas 60 %LEL above level 1 (25 %LEL)", Map.of("gas_lel", 60.0, "reading_time_ms", ts));
  }

  private static AlarmEvent event(long id, AlarmTransition t) {
    Instant at = Instant.ofEpochMilli(t.timeMillis());
    Alarm a = new Alarm(7, t.deviceId(), t.ruleId(), t.severity(), AlarmState.ACTIVE_UNACKED, 2, t.message(),
        t.evidence(), at, at, null, null, null, null, null);
    return new AlarmEvent(id, 7, "reopened", AlarmState.CLEARED_UNACKED, AlarmState.ACTIVE_UNACKED, "rules", t.message(), at, a,
        Map.of());
  }

  private List<String> lines(Path file) throws IOException {
    return Files.readAllLines(file, StandardCharsets.UTF_8);
  }

  @Test
  void writesOneLineWithEveryHopOnceTheFrameIsWritten() throws IOException {
    Path file = dir.resolve("trace.csv");
    AlarmPathTrace trace = new AlarmPathTrace(file);
    AlarmTransition t = raise("gas-001", TS);
    trace.onDecoded(List.of(new Reading("gas-001", "gas_lel", TS, 60.0, 3)), 1_000);
    trace.onDecided(t, 1_100);
    trace.onDequeued(List.of(t), 1_200);
    trace.onLedger(AlarmPathTrace.LedgerHop.CONNECTED, 1_300);
    trace.onLedger(AlarmPathTrace.LedgerHop.SENT, 1_400);
    trace.onLedger(AlarmPathTrace.LedgerHop.COMMITTED, 1_500);
    trace.onTelling(event(42, t), 1_600);
    trace.onTelling(event(43, t), 1_650); // a second event of the same transition: the first counts
    trace.onFrameWritten(43, 1_660, 1_670); // not the first event: nothing
    trace.flush(1_700, false);
    assertThat(lines(file)).hasSize(2); // comment and header: the frame of event 42 is not written yet
    trace.onFrameWritten(42, 1_700, 1_800);
    trace.onFrameWritten(42, 1_750, 1_900); // a second client: the first write counts
    trace.flush(2_000, false);
    List<String> lines = lines(file);
    assertThat(lines.get(0)).matches("# System\\.nanoTime\\(\\) \\d+ ns = epoch \\d+ us");
    assertThat(lines.get(1)).isEqualTo(AlarmPathTrace.HEADER);
    assertThat(lines.subList(2, lines.size())).containsExactly(
        "gas-001,gas-lel-threshold,RAISE," + TS + ",1000,1100,1200,1300,1400,1500,1600,1700,1800,42,1");
    trace.close();
    assertThat(lines(file)).hasSize(3);
  }

  @Test
  void aTransitionNoClientWasSentIsWrittenWhenOldOrAtClose() throws IOException {
    Path file = dir.resolve("trace.csv");
    AlarmPathTrace trace = new AlarmPathTrace(file);
    AlarmTransition clear = new AlarmTransition("gas-002", "gas-lel-threshold", AlarmTransition.Kind.CLEAR,
        Severity.MAJOR, TS, "gas 0 %LEL", Map.of("reading_time_ms", TS));
    // decoded for another reading time: not this transition's message
    trace.onDecoded(List.of(new Reading("gas-002", "gas_lel", TS - 1, 0.0, 4)), 500);
    trace.onDecided(clear, 1_000);
    trace.onDecided(raise("gas-003", TS), 2_000);
    trace.flush(1_000 + AlarmPathTrace.INCOMPLETE_AFTER_NANOS, false);
    assertThat(lines(file)).hasSize(2);
    trace.flush(1_001 + AlarmPathTrace.INCOMPLETE_AFTER_NANOS, false);
    assertThat(lines(file).subList(2, 3)).containsExactly(
        "gas-002,gas-lel-threshold,CLEAR," + TS + ",0,1000,0,0,0,0,0,0,0,0,0");
    trace.close();
    assertThat(lines(file).subList(3, lines(file).size())).containsExactly(
        "gas-003,gas-lel-threshold,RAISE," + TS + ",0,2000,0,0,0,0,0,0,0,0,0");
  }

  @Test
  void ledgerHopsGoToTheCallingThreadsGroupOnly() throws Exception {
    Path file = dir.resolve("trace.csv");
    AlarmPathTrace trace = new AlarmPathTrace(file);
    AlarmTransition t = raise("gas-004", TS);
    trace.onDecided(t, 1_000);
    trace.onDequeued(List.of(t), 1_100);
    Thread other = new Thread(() -> trace.onLedger(AlarmPathTrace.LedgerHop.CONNECTED, 9_999)); // escalation's
    other.start();
    other.join();
    trace.onLedger(AlarmPathTrace.LedgerHop.CONNECTED, 1_200);
    trace.close();
    assertThat(lines(file).get(2)).isEqualTo("gas-004,gas-lel-threshold,RAISE," + TS + ",0,1000,1100,1200,0,0,0,0,0,0,1");
  }

  /** The JVM-wide switch, in a JVM of its own: a real ledger transaction on TimescaleDB. */
  @Test
  void onWritesTheRealLedgersHopsAndOffWritesNothing() throws Exception {
    Path on = Files.createDirectories(dir.resolve("on"));
    Path off = Files.createDirectories(dir.resolve("off"));
    Path file = on.resolve("alarm-trace.csv");
    String outOn = child(on, "-D" + AlarmPathTrace.PROPERTY + "=" + file, "gas-on", TS);
    String outOff = child(off, null, "gas-off", TS + 1);
    assertThat(outOff).contains("ON=false");
    try (var files = Files.list(off)) {
      assertThat(files).isEmpty();
    }
    assertThat(outOn).contains("ON=true");
    long eventId = Long.parseLong(outOn.replaceAll("(?s).*event=(\\d+).*", "$1"));
    List<String> lines = lines(file);
    assertThat(lines).hasSize(3);
    String[] f = lines.get(2).split(",");
    assertThat(Arrays.asList(f).subList(0, 4)).containsExactly("gas-on", "gas-lel-threshold", "RAISE", Long.toString(TS));
    List<Long> hops = new ArrayList<>();
    for (int i = 4; i <= 12; i++) {
      hops.add(Long.parseLong(f[i]));
    }
    assertThat(hops).allMatch(n -> n != 0).isSorted(); // every hop seen, in path order
    assertThat(Long.parseLong(f[13])).isEqualTo(eventId);
    assertThat(f[14]).isEqualTo("1");
  }

  private String child(Path cwd, String property, String device, long ts) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx128m");
    if (property != null) {
      cmd.add(property);
    }
    cmd.addAll(List.of("-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
        TracedLedgerChild.class.getName(), db.jdbcUrl(), db.user(), db.password(), device, Long.toString(ts)));
    Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }
}
