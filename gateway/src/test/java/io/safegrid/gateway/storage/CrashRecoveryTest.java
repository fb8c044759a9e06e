package io.safegrid.gateway.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.model.Reading;
import io.safegrid.testing.TestDatabase;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway process is killed with kill -9 while it spools (database unreachable), then a new
 * store starts on the same spool with the database back: every reading whose future had
 * completed is stored, exactly once.
 */
class CrashRecoveryTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @TempDir Path spoolDir;

  @Test
  void killedWhileSpooling_restartReplaysEveryAcknowledgedReadingExactlyOnce() throws Exception {
    long base = Instant.parse("2026-11-29T10:00:00Z").toEpochMilli();
    int deadPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      deadPort = s.getLocalPort(); // closed below: connections to it are refused
    }
    String unreachable = "jdbc:postgresql://127.0.0.1:" + deadPort + "/" + db.name();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-Xmx256m", "-cp",
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
        SpoolingChild.class.getName(), unreachable,
        db.user(), db.password(), spoolDir.toString(), Long.toString(base))
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
    Set<Long> acked = ConcurrentHashMap.newKeySet();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(
          new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          if (line.startsWith("ACK ")) acked.add(Long.parseLong(line.substring(4)));
        }
      } catch (Exception e) {
        // killed
      }
    });
    reader.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= 10_000);
    child.destroyForcibly(); // SIGKILL: no shutdown hook, no close, mid-write
    assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
    reader.join(5000);
    Set<Long> acknowledged = Set.copyOf(acked);

    // And a record torn by a crash mid-write at the end of the newest segment.
    Path last;
    try (Stream<Path> segs = Files.list(spoolDir)) {
      last = segs.filter(p -> p.toString().endsWith(".spool")).sorted()
          .reduce((a, b) -> b).orElseThrow();
    }
    Files.write(last, new byte[] {0, 0, 1, 0, 7, 7, 7, 7, 0, 0, 0}, StandardOpenOption.APPEND);

    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    StorageConfig cfg = StorageConfig.defaults(db.jdbcUrl(), db.user(), db.password(), spoolDir);
    try (TimescaleReadingStore store = new TimescaleReadingStore(cfg, registry)) {
      assertThat(store.spooling()).as("a spool left by the killed process is replayed").isTrue();
      await().atMost(Duration.ofSeconds(40)).until(() -> !store.spooling());
      // the restarted gateway goes on writing live
      store.submit(List.of(Reading.of("gas-001", "gas_lel", base - 1, 1))).get(10, TimeUnit.SECONDS);
    }
    try (Stream<Path> segs = Files.list(spoolDir)) {
      assertThat(segs.filter(p -> p.toString().endsWith(".spool"))).isEmpty();
    }

    Map<Long, Integer> rowsPerSeq = new HashMap<>();
    try (Connection c = db.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT device_id, (extract(epoch FROM time) * 1000)::bigint,"
            + " value FROM readings WHERE time >= '2026-11-29T10:00:00Z'")) {
      while (rs.next()) {
        long offset = rs.getLong(2) - base;
        long seq = offset / 5;
        assertThat(rs.getString(1)).isEqualTo("gas-" + String.format("%03d", seq % 117));
        assertThat(rs.getDouble(3)).isEqualTo(seq + (offset % 5) / 10.0);
        rowsPerSeq.merge(seq, 1, Integer::sum);
      }
    }
    assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(10_000);
    for (long seq : acknowledged) {
      assertThat(rowsPerSeq.get(seq)).as("readings of acknowledged message %d", seq).isEqualTo(5);
    }
    // what was stored beyond the acknowledged (spooled but killed before the ACK was printed)
    // is whole messages only
    assertThat(rowsPerSeq.values()).containsOnly(5);
  }
}
