package io.safegrid.gateway.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.model.Reading;
import io.safegrid.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TimeZone;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * JVM in America/Chicago, database in Europe/Berlin, readings across the 2026 DST changes of
 * both (US: 8 March and 1 November; EU: 29 March and 25 October): what is read back equals what
 * was written, in UTC.
 */
class TimeZoneTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static TimeZone saved;

  @BeforeAll
  static void zones() throws Exception {
    saved = TimeZone.getDefault();
    TimeZone.setDefault(TimeZone.getTimeZone("America/Chicago"));
    Db.execute(db, "ALTER DATABASE \"" + db.name() + "\" SET timezone TO 'Europe/Berlin'");
  }

  @AfterAll
  static void restore() {
    TimeZone.setDefault(saved);
  }

  static final Instant[] DST_CHANGES = {
    Instant.parse("2026-03-08T08:00:00Z"), // Chicago 02:00 CST -> 03:00 CDT
    Instant.parse("2026-03-29T01:00:00Z"), // Berlin 02:00 CET -> 03:00 CEST
    Instant.parse("2026-10-25T01:00:00Z"), // Berlin 03:00 CEST -> 02:00 CET
    Instant.parse("2026-11-01T07:00:00Z"), // Chicago 02:00 CDT -> 01:00 CST
  };

  @Test
  void readingsAcrossDstChanges_readBackEqualInUtc(@TempDir Path spoolDir) throws Exception {
    List<Reading> written = new ArrayList<>();
    for (Instant change : DST_CHANGES) {
      for (int q = -12; q < 12; q++) { // every 15 min, 3 h either side
        long t = change.toEpochMilli() + q * 900_000L;
        written.add(Reading.of("rg-jialing-1", "level_m", t, q + 12));
      }
    }
    StorageConfig cfg = StorageConfig.defaults(db.jdbcUrl(), db.user(), db.password(), spoolDir);
    try (TimescaleReadingStore store = new TimescaleReadingStore(cfg, new SimpleMeterRegistry())) {
      store.submit(written).get(20, TimeUnit.SECONDS);
    }

    // A session in Berlin, as the database's default: the store must not have depended on it.
    HikariConfig h = new HikariConfig();
    h.setJdbcUrl(db.jdbcUrl());
    h.setUsername(db.user());
    h.setPassword(db.password());
    h.setConnectionInitSql("SET TIME ZONE 'Europe/Berlin'");
    try (HikariDataSource berlin = new HikariDataSource(h)) {
      try (Connection c = berlin.getConnection(); Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT current_setting('TimeZone'),"
              + " (extract(epoch FROM min(time)) * 1000)::bigint, min(time)::text FROM readings")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("Europe/Berlin");
        assertThat(rs.getLong(2)).isEqualTo(written.get(0).timeMillis());
        // 2026-03-08T05:00Z shown in Berlin time: the row holds the instant, not a local time
        assertThat(rs.getString(3)).isEqualTo("2026-03-08 06:00:00+01");
      }
      ReadingQueries q = new ReadingQueries(berlin);
      for (Instant change : DST_CHANGES) {
        Instant from = change.minus(Duration.ofHours(3));
        Instant to = change.plus(Duration.ofHours(3));
        List<ReadingQueries.Point> points = q.raw("rg-jialing-1", "level_m", from, to, 100);
        assertThat(points).hasSize(24);
        for (int i = 0; i < 24; i++) {
          assertThat(points.get(i).time()).isEqualTo(from.plusSeconds(900L * i));
          assertThat(points.get(i).value()).isEqualTo(i);
        }
        // hourly buckets are UTC hours: four readings each, also in the hour that a local clock
        // repeats or skips
        List<ReadingQueries.Bucket> hours = q.range("rg-jialing-1", "level_m", from, to,
            Duration.ofHours(1));
        assertThat(hours).hasSize(6);
        for (int i = 0; i < 6; i++) {
          assertThat(hours.get(i).bucketStart()).isEqualTo(from.plus(Duration.ofHours(i)));
          assertThat(hours.get(i).count()).isEqualTo(4);
          assertThat(hours.get(i).avg()).isEqualTo(4 * i + 1.5);
        }
      }
      List<ReadingQueries.Latest> latest = q.latest("rg-jialing-1");
      assertThat(latest).containsExactly(new ReadingQueries.Latest("rg-jialing-1", "level_m",
          DST_CHANGES[3].plusSeconds(11 * 900), 23));
    }
  }
}
