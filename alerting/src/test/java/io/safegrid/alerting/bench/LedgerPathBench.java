package io.safegrid.alerting.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.Alerting;
import io.safegrid.alerting.AlertingConfig;
import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.alerting.ledger.JdbcAlarmLedger;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import io.safegrid.schema.SchemaMigrator;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The in-process alarm path (not a test; run by {@code bench/ledger_path.sh}): a gas alarm is
 * raised (critical, so escalation writes its outbox rows), then cleared, over and over, through
 * the real ledger with escalation on a fresh database {@code ledger_path_bench}; one sample is the
 * time from {@code applyAll} to the raise's event reaching a listener (the live feed's place).
 * Prints percentiles per phase: the first {@code COLD} cycles (code not yet compiled by the JIT,
 * as in a gateway that raises a few alarms a minute), then {@code CYCLES} after {@code WARM}
 * unmeasured ones.
 *
 * <p>Args: JDBC_URL USER PASSWORD [COLD] [WARM] [CYCLES] [WARM_UP] [MODE]: WARM_UP rolled-back cycles of
 * {@link JdbcAlarmLedger#warmUpInBackground} (what the gateway runs at start) before the cold phase;
 * MODE {@code same} (default: one device, so every raise after the first re-opens its cleared
 * alarm) or {@code new} (a fresh device each cycle: every raise registers a new alarm).
 *
 * <p>[QUIET] [QUIET_MS]: then QUIET cycles with the ledger idle QUIET_MS before each raise (a quiet
 * site: alarms minutes apart), phase {@code quiet}. HikariCP validates a connection idle for more
 * than its alive-bypass window (500 ms unless {@code -Dcom.zaxxer.hikari.aliveBypassWindowMs=}) with
 * a round trip before handing it out, so with QUIET_MS above it every quiet raise pays that.
 */
public final class LedgerPathBench {
  private static boolean freshDevices;
  private static int device = 1;
  /** Idle time before each raise, ms (the quiet phase). */
  private static long idleBefore;

  public static void main(String[] args) throws Exception {
    String server = args[0];
    int cold = args.length > 3 ? Integer.parseInt(args[3]) : 50;
    int warm = args.length > 4 ? Integer.parseInt(args[4]) : 3000;
    int cycles = args.length > 5 ? Integer.parseInt(args[5]) : 1000;
    int warmUp = args.length > 6 ? Integer.parseInt(args[6]) : 0;
    freshDevices = args.length > 7 && args[7].equals("new");
    int quiet = args.length > 8 ? Integer.parseInt(args[8]) : 0;
    long quietMs = args.length > 9 ? Long.parseLong(args[9]) : 2000;
    String dbName = "ledger_path_bench";
    try (Connection c = DriverManager.getConnection(server, args[1], args[2]); Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)");
      st.execute("CREATE DATABASE " + dbName);
    }
    String url = server.replaceAll("/[^/?]*(\\?.*)?$", "/" + dbName);
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(url);
    ds.setUser(args[1]);
    ds.setPassword(args[2]);
    SchemaMigrator.migrate(ds);
    com.zaxxer.hikari.HikariDataSource pool = new com.zaxxer.hikari.HikariDataSource();
    pool.setDataSource(ds);
    pool.setMaximumPoolSize(4);
    Alerting alerting = Alerting.create(pool, io.safegrid.alerting.testsupport.TestGrid.directory(), InstantSource.system(),
        new AlertingConfig(null, null, null, null, List.of()), new SimpleMeterRegistry());
    alerting.start();
    JdbcAlarmLedger ledger = alerting.ledger();
    BlockingQueue<AlarmEvent> told = new ArrayBlockingQueue<>(100_000);
    ledger.addListener(e -> {
      if (e.type().equals("raised") || e.type().equals("reopened")) {
        told.add(e);
      }
    });
    if (warmUp > 0) {
      ledger.warmUpInBackground(warmUp).join();
    }
    System.out.printf("phase          n     p50 ms   p90 ms   p99 ms   max ms%n");
    run("cold", ledger, told, cold, true);
    if (cycles > 0) {
      run("warm-up", ledger, told, warm, false);
      run("warm", ledger, told, cycles, true);
    }
    if (quiet > 0) {
      idleBefore = quietMs;
      run("quiet", ledger, told, quiet, true);
    }
    alerting.close();
    pool.close();
  }

  private static void run(String phase, JdbcAlarmLedger ledger, BlockingQueue<AlarmEvent> told, int n,
      boolean print) throws InterruptedException {
    Histogram h = new Histogram(3);
    for (int i = 0; i < n; i++) {
      if (freshDevices) {
        device++;
      }
      if (idleBefore > 0) {
        Thread.sleep(idleBefore);
      }
      long t0 = System.nanoTime();
      ledger.applyAll(List.of(t(Kind.RAISE)), t0);
      if (told.poll(10, TimeUnit.SECONDS) == null) {
        throw new IllegalStateException("no raised event within 10 s");
      }
      h.recordValue((System.nanoTime() - t0) / 1000);
      ledger.applyAll(List.of(t(Kind.CLEAR)), System.nanoTime());
    }
    if (print) {
      System.out.printf("%-10s %5d %8.3f %8.3f %8.3f %8.3f%n", phase, h.getTotalCount(),
          h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(90) / 1000.0,
          h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0);
    }
  }

  private static AlarmTransition t(Kind kind) {
    return new AlarmTransition(String.format("gas-%03d", device), "gas-lel-threshold", kind, Severity.CRITICAL,
        System.currentTimeMillis(), kind == Kind.RAISE ? "gas 60.0 %LEL above level 2 (50 %LEL)" : "gas 0.0 %LEL",
        Map.of("gas_lel", 60.0, "threshold", 50.0));
  }
}
