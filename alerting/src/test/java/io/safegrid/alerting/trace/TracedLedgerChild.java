package io.safegrid.alerting.trace;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.ledger.JdbcAlarmLedger;
import io.safegrid.alerting.ledger.LedgerConfig;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Reading;
import io.safegrid.model.Severity;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * A separate JVM for {@link AlarmPathTraceTest}: one gas raise through a real {@link
 * JdbcAlarmLedger}, with the trace's hops called as the gateway calls them ({@code if
 * (AlarmPathTrace.ON) ...}: decoded as the ingest listener, decided and dequeued as the alarm
 * writer, frame written from the ledger listener as the live feed's SSE client would); the ledger's
 * own hops (connection, round trip, told) are the real ones. Prints {@code ON=true|false} and the
 * raise's first event id. Args: JDBC URL, user, password, device id, reading ts (ms).
 */
public final class TracedLedgerChild {
  public static void main(String[] args) throws Exception {
    HikariConfig cfg = new HikariConfig();
    cfg.setJdbcUrl(args[0]);
    cfg.setUsername(args[1]);
    cfg.setPassword(args[2]);
    cfg.setMaximumPoolSize(2);
    String device = args[3];
    long ts = Long.parseLong(args[4]);
    try (HikariDataSource ds = new HikariDataSource(cfg);
        JdbcAlarmLedger ledger = new JdbcAlarmLedger(ds, Clock.systemUTC(), LedgerConfig.defaults(),
            new SimpleMeterRegistry())) {
      long[] firstEvent = new long[1];
      ledger.addListener(e -> {
        long now = System.nanoTime();
        if (firstEvent[0] == 0) {
          firstEvent[0] = e.id();
        }
        if (AlarmPathTrace.ON) {
          AlarmPathTrace.frameWritten(e.id(), now, System.nanoTime());
        }
      });
      ledger.start();
      List<Reading> readings = List.of(new Reading(device, "gas_lel", ts, 60.0, 1));
      if (AlarmPathTrace.ON) {
        AlarmPathTrace.decoded(readings);
      }
      AlarmTransition t = new AlarmTransition(device, "gas-lel-threshold", AlarmTransition.Kind.RAISE,
          Severity.MAJOR, ts, "gas 60 %LEL above level 1 (25 %LEL)",
          Map.of("gas_lel", 60.0, "threshold", 25, "reading_time_ms", ts));
      long decided = System.nanoTime();
      if (AlarmPathTrace.ON) {
        AlarmPathTrace.decided(t, decided);
        AlarmPathTrace.dequeued(List.of(t), System.nanoTime());
      }
      ledger.applyAll(List.of(t), decided);
      if (AlarmPathTrace.ON) {
        AlarmPathTrace.endGroup();
      }
      System.out.println("ON=" + AlarmPathTrace.ON + " event=" + firstEvent[0]);
    }
  }
}
