package io.safegrid.gateway.wiring;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.safegrid.alerting.Alerting;
import io.safegrid.alerting.AlertingConfig;
import io.safegrid.alerting.channel.mqtt.MqttChannelConfig;
import io.safegrid.alerting.channel.webhook.WebhookConfig;
import io.safegrid.alerting.trace.AlarmPathTrace;
import io.safegrid.alerting.ledger.JdbcAlarmLedger;
import io.safegrid.alerting.unconfirmed.UnconfirmedAlarms;
import io.safegrid.dashboard.DashboardServer;
import io.safegrid.dashboard.auth.Role;
import io.safegrid.dashboard.auth.TokenTable;
import io.safegrid.dashboard.live.LiveFeed;
import io.safegrid.dashboard.http.HealthReport;
import io.safegrid.gateway.coap.CoapIngestServer;
import io.safegrid.gateway.coap.CoapSettings;
import io.safegrid.gateway.config.DashboardToken;
import io.safegrid.gateway.config.EmergencyNetworkConfig;
import io.safegrid.gateway.config.Webhook;
import io.safegrid.gateway.config.GatewayConfig;
import io.safegrid.gateway.config.LoadedConfig;
import io.safegrid.gateway.ingest.IngestListener;
import io.safegrid.gateway.ingest.IngestService;
import io.safegrid.gateway.ingest.MetricBudget;
import io.safegrid.gateway.ingest.IngestSink;
import io.safegrid.gateway.mqtt.MqttLimits;
import io.safegrid.gateway.mqtt.MqttServer;
import io.safegrid.gateway.mqtt.MqttTls;
import io.safegrid.gateway.mqtt.auth.SiteSecretAuthenticator;
import io.safegrid.gateway.retention.RetentionJob;
import io.safegrid.gateway.storage.LeftoverSpool;
import io.safegrid.gateway.storage.ReadingStore;
import io.safegrid.gateway.storage.StorageConfig;
import io.safegrid.gateway.storage.TimescaleReadingStore;
import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import io.safegrid.rules.config.RuleBook;
import io.safegrid.rules.engine.RestoreSnapshot;
import io.safegrid.rules.engine.RuleEngine;
import io.safegrid.rules.engine.ShardedRuleEngine;
import io.safegrid.rules.engine.StoredBefore;
import io.safegrid.schema.SchemaMigrator;
import io.safegrid.site.Device;
import io.safegrid.site.Site;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Set;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: builds and starts the gateway from a loaded configuration, and stops it.
 *
 * <p>Start order (each step uses the ones before it): Prometheus registry; HikariCP pool on the
 * configured TimescaleDB; {@link SchemaMigrator}; the site's devices upserted into {@code
 * devices}; retention ({@link RetentionJob}, licence {@code apache}); the alarm ledger ({@link
 * JdbcAlarmLedger}) inside alerting ({@link Alerting}: routing through the grid, escalation,
 * outbox to the emergency network's MQTT broker and webhooks); the dashboard ({@link
 * DashboardServer}); the rule engine ({@link ShardedRuleEngine}, restored from the database, fed
 * a clock every 250 ms, transitions to the ledger through {@link AlarmWriter}, hazards it cannot
 * commit in time to the page and the emergency broker through {@link UnconfirmedAlarms}); what a previous
 * run left in the spool judged by the rule engine ({@link LeftoverSpool}); the first-alarm
 * warm-up ({@link AlarmPathWarmUp}: rules, writer and live feed with throwaway sinks); durable storage
 * ({@link ReadingStore}); ingest ({@link IngestService}: readings to the rule engine and the live
 * page, then to storage); CoAP/CoAPS ({@link CoapIngestServer}; device presence to the live page
 * through {@link CoapPresence}); MQTT ({@link MqttServer}; device presence to the live page). {@link #close()} stops
 * them in reverse order: transports first, storage flushes, the pool last.
 *
 * <p>Ports configured as 0 are resolved; {@link #ports()} gives the bound ones and the start
 * logs them on one line ({@link BoundPorts#listeningLine()}).
 *
 */
public final class Gateway implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Gateway.class);
  /**
   * Rule engine shards unless {@code -Dsafegrid.rules.shards} says otherwise: each is a {@code
   * RuleEngine} and an idle thread; a device always goes to the same one. 16 (was the number of
   * cores, at most 4): see the rule engine's call below.
   */
  static final int RULE_SHARDS = 16;

  private final LoadedConfig config;
  private final Deque<Part> started = new ArrayDeque<>();
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private HikariDataSource dataSource;
  private SchemaMigrator.Result schema;
  private DashboardServer dashboard;
  private Alerting alerting;
  private JdbcAlarmLedger ledger;
  private ShardedRuleEngine rules;
  private RuleBook ruleBook;
  private IngestSink ingest;
  private volatile TimescaleReadingStore store;
  /** For the {@code retention} check of {@code GET /api/health}; null until started. */
  private volatile RetentionJob retention;
  private int mqttPort = -1;
  private int coapPort = -1;
  private int coapsPort = -1;
  private BoundPorts ports;
  private boolean closed;

  private record Part(String name, AutoCloseable closer) {}

  private Gateway(LoadedConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  /**
   * Builds and starts every part.
   *
   * @throws GatewayStartException naming the part that failed (what was started is stopped again)
   */
  public static Gateway start(LoadedConfig config) {
    Gateway g = new Gateway(config);
    try {
      g.startAll();
      return g;
    } catch (GatewayStartException e) {
      g.close();
      throw e;
    } catch (RuntimeException e) {
      g.close();
      throw new GatewayStartException("gateway start failed: " + e.getMessage(), e);
    } catch (Error e) {
      g.close(); // a missing class must not leave Vert.x or Netty threads holding the JVM open
      throw e;
    }
  }

  private void startAll() {
    long t0 = System.nanoTime();
    Site site = config.site();
    GatewayConfig gc = config.gateway();
    log.info(
        "starting SafeGrid for {} ({} devices) from {}",
        site.name(), site.devices().size(), config.file());
    started.push(new Part("metrics registry", registry::close));

    dataSource = openPool(gc);
    started.push(new Part("database pool", dataSource::close));

    step("schema migration", () -> {
      schema = SchemaMigrator.migrate(dataSource, gc.retentionDays());
      log.info("schema v{} on TimescaleDB {} (licence {}), {} migration(s) applied",
          schema.schemaVersion(), schema.timescaleVersion(), schema.licence(), schema.migrationsRun());
    });
    step("device registry", () -> {
      int n = DeviceTableSync.upsert(dataSource, site);
      log.info("devices table: {} device(s) of the site, {} inserted or changed",
          site.devices().size(), n);
    });

    // its own network timeout: a silent cut during a run must not hold its thread for ~15 min (review8 R8-12)
    RetentionJob retention = new RetentionJob(new NetworkTimeoutDataSource(dataSource, RETENTION_NETWORK_TIMEOUT),
        Duration.ofDays(gc.retentionDays()), registry);
    retention.start(RetentionJob.DEFAULT_INTERVAL);
    started.push(new Part("retention", retention));
    this.retention = retention;

    io.safegrid.alerting.routing.GridDirectory grid = SiteGridDirectory.of(site);
    AlertingConfig alertingConfig = alertingConfig(gc);
    // the ledger's, escalation's and the outbox's connections give up on a silent database after
    // LEDGER_NETWORK_TIMEOUT instead of blocking the alarm writer until TCP does (review7 R9)
    alerting = Alerting.create(new NetworkTimeoutDataSource(dataSource, LEDGER_NETWORK_TIMEOUT),
        grid, InstantSource.system(), alertingConfig, registry);
    ledger = alerting.ledger();
    alerting.start();
    ledger.warmUpInBackground(1_000); // rolled back: JIT-compiles the alarm path before the first alarm; 1,000 reach the plateau under the launcher's C1-only JVM (docs/performance.md "Stalls")
    started.push(new Part("alerting", alerting));
    log.info("alerting: notifications to {}{}",
        gc.emergencyNetwork().brokerUrl() == null ? "no MQTT broker" : gc.emergencyNetwork().brokerUrl(),
        gc.webhooks().isEmpty() ? "" : " and " + gc.webhooks().size() + " webhook(s)");

    dashboard = startDashboard(site, gc);
    started.push(new Part("dashboard", dashboard::stop));
    LiveFeed live = dashboard.liveFeed();

    // hazards the ledger cannot take in time (database unreachable) go to the page and the broker
    // unconfirmed (newcomer7 F4 b, docs/alerting.md "Database outage")
    UnconfirmedAlarms unconfirmed = new UnconfirmedAlarms(grid, alertingConfig.mqtt(), registry);
    unconfirmed.addListener(live);
    started.push(new Part("unconfirmed alarms", unconfirmed));
    // hazards are annunciated on the page at the rule engine's decision, before the ledger records
    // them (docs/alerting.md "Annunciation before the ledger")
    AlarmWriter writer = new AlarmWriter(ledger, registry, AlarmWriter.FIRST_BACKOFF,
        unconfirmed, AlarmWriter.UNCONFIRMED_HOLD, live);
    started.push(new Part("alarm writer", writer));
    SiteDirectory directory = new SiteDirectory(site);
    RuleBook ruleBook = RuleBook.fromParameters(site.rules());
    rules = new ShardedRuleEngine(
        ruleBook,
        directory,
        System::currentTimeMillis,
        // many more shards than transport threads, so that two event loops rarely want the same
        // shard at once (the second hands its reading over and waits for the first to be
        // scheduled again): 16 against 2 cut hand-offs 20-fold (docs/performance.md "Round 5")
        Integer.getInteger("safegrid.rules.shards", RULE_SHARDS),
        writer,
        new RuleFlags(registry)); // counted by reason; the first of each device and reason logged
    started.push(new Part("rule engine", rules));
    // the rule engine runs a free shard on the transport's own thread (no hop): this shows what is left
    Timer handOff = Timer.builder("safegrid.rules.handoff")
        .description("message handed to the rule engine to the start of its evaluation, when it changed threads")
        .publishPercentiles(0.5, 0.9, 0.99)
        .register(registry);
    rules.observeHandOff(nanos -> handOff.record(nanos, TimeUnit.NANOSECONDS));
    try {
      rules.restore(RuleRestore.read(dataSource, ledger, site, System.currentTimeMillis()))
          .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("rule engine restore failed, starting from a clean state: {}", e.toString());
    }
    ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "safegrid-rules-clock");
      t.setDaemon(true);
      return t;
    });
    clock.scheduleAtFixedRate(
        () -> rules.advanceTo(System.currentTimeMillis()), 250, 250, TimeUnit.MILLISECONDS);
    started.push(new Part("rule clock", clock::shutdownNow));
    this.ruleBook = ruleBook;
    judgeLeftoverSpool(gc, writer); // before the store replays (and deletes) it
    warmUpAlarmPath(); // before the transports listen: no real alarm can wait behind it

    TimescaleReadingStore store = openReadingStore(gc, writer);
    this.store = store;
    {
      started.push(new Part("reading store", store));
      IngestListener listener = new IngestListener() {
        @Override
        public void onReadings(List<Reading> readings) {
          if (AlarmPathTrace.ON) {
            AlarmPathTrace.decoded(readings);
          }
          rules.onReadings(readings);
          for (Reading r : readings) {
            live.reading(r);
          }
        }

        @Override
        public void onReadings(List<Reading> readings, StoredBefore storedBefore) {
          // a message with a reading far behind: the engine judges what it can at once, and a
          // possible resend of a reading stored long ago once the store has told (rules8)
          if (AlarmPathTrace.ON) {
            AlarmPathTrace.decoded(readings);
          }
          rules.onReadings(readings, storedBefore);
          for (Reading r : readings) {
            live.reading(r);
          }
        }

        @Override
        public void onEvents(List<DeviceEvent> events) {
          for (DeviceEvent e : events) {
            rules.onEvent(e);
          }
        }
      };
      ingest = new IngestService(store, listener, registry, MetricBudget.forRules(ruleBook));
      startCoap(gc, directory, coapPresence(directory, ruleBook, live));
      startMqtt(gc, site, live);
    }

    ports = new BoundPorts(mqttPort, coapPort, coapsPort, dashboard.port());
    log.info("started in {} ms", (System.nanoTime() - t0) / 1_000_000);
    log.info(ports.listeningLine());
  }

  /** Readings of a leftover spool handed to the rule engine's replay at a time (memory bound). */
  static final int LEFTOVER_CHUNK = 5_000;
  /** How long the start waits for the ledger to take what the leftover spool raised. */
  static final Duration LEFTOVER_LEDGER_WAIT = Duration.ofSeconds(30);

  /**
   * Judges what a previous process left in the spool (it stopped or crashed while the database
   * was unreachable, or before the spool's replay had finished) before the reading store replays
   * it into the database (newcomer7 F9). Those readings and events got their PUBACK, and the
   * previous process's rule engine judged them, but its transitions waited in {@link
   * AlarmWriter}'s memory for the ledger and died with it; the rule engine restored from the
   * database does not know them either. Only what the database does not hold yet is judged
   * ({@link LeftoverSpool#read}: a row the previous process had replayed was judged by it, and
   * its alarms applied, perhaps cleared and closed; judged again, a past fire would be raised
   * again, review7 R2). So: the spooled readings not yet stored go through the rule engine's
   * restart replay ({@code restore} with recent readings only: event time order, a reading
   * already judged is a resend, one older than its metric's newest is checked for raises only and
   * never taken for a clock that went back), in chunks of {@value #LEFTOVER_CHUNK}, a message
   * whose device time is more than {@link RuleEngine#CLOCK_RESET_MILLIS} behind its spool time
   * moved to that time ({@link #plausibleTimes}); the spooled events not yet stored through
   * {@code onEvent}, in spool order. Then the start waits (at most {@link #LEFTOVER_LEDGER_WAIT})
   * until the ledger has what they raised, so a crash right after the start cannot lose them
   * again: the spool is deleted only after its replay, which starts after this.
   *
   * @throws GatewayStartException when the spool directory cannot be read or is locked by another
   *     process (the reading store could not open it either); a rule engine that fails to judge it
   *     is logged as an error and the start goes on
   */
  private void judgeLeftoverSpool(GatewayConfig gc, AlarmWriter writer) {
    Path dir = Path.of(gc.storage().spoolDir());
    List<Reading> chunk = new ArrayList<>();
    LeftoverSpool.Summary summary;
    try {
      summary = LeftoverSpool.read(dir, dataSource, new LeftoverSpool.Visitor() {
        @Override
        public void readings(List<Reading> message, long spooledAtMillis) {
          chunk.addAll(plausibleTimes(message, spooledAtMillis));
          if (chunk.size() >= LEFTOVER_CHUNK) {
            replay(chunk);
          }
        }

        @Override
        public void event(DeviceEvent event, long spooledAtMillis) {
          replay(chunk); // the readings spooled before it first
          rules.onEvent(event); // far behind the gateway clock: raised at its arrival (now)
        }
      });
      replay(chunk);
      rules.flush().get(30, TimeUnit.SECONDS);
      rules.advanceTo(System.currentTimeMillis()); // debounce confirmations already due
      rules.flush().get(30, TimeUnit.SECONDS);
    } catch (java.io.IOException e) {
      throw new GatewayStartException( // the store's own wording: the launcher prints it
          "cannot open the spool in " + dir + ": " + e.getMessage(), e);
    } catch (Exception e) { // the readings still go to the database: start, and say what is missing
      log.error("the rule engine could not judge all of the spool {} left by the previous run: alarms of"
          + " readings PUBACK'd before the restart may be missing: {}", dir, rootMessage(e), e);
      return;
    }
    if (summary.isEmpty()) {
      return;
    }
    log.info("spool {} left by the previous run: {} message(s) with {} reading(s) and {} event(s)"
            + " handed to the rule engine before replaying them into the database; {} reading(s)"
            + " and {} event(s) in it were stored (and judged) already{}",
        dir, summary.messages(), summary.readings(), summary.events(), summary.storedReadings(),
        summary.storedEvents(), summary.uncheckedGroups() == 0 ? ""
            : "; " + summary.uncheckedGroups() + " group(s) judged unchecked (database unreachable)");
    try {
      if (!writer.awaitSettled(LEFTOVER_LEDGER_WAIT)) {
        log.warn("the alarm ledger has not taken the transitions of the leftover spool within {} s;"
            + " they stay queued and are retried", LEFTOVER_LEDGER_WAIT.toSeconds());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * A spooled message as the restart replay judges it (review7 R12): when its newest reading is
   * more than {@link RuleEngine#CLOCK_RESET_MILLIS} (30 days) behind the time the previous
   * process spooled it, the device's clock was reset (to 2000-01-01, or its firmware's date: no
   * unit keeps a backlog that old), and the message is moved so that its newest reading is at the
   * spool time (the others keep their distance to it): the alarm is raised at about the time the
   * gas was there, as a live reading of a reset clock is judged on its arrival, not in 2000. The
   * database keeps the device's times (the store replays the spool as it is).
   *
   * @param message readings of one message
   * @param spooledAtMillis when the previous process spooled it (epoch ms; 0 or less: unknown)
   * @return {@code message}, or a copy with the times moved
   */
  static List<Reading> plausibleTimes(List<Reading> message, long spooledAtMillis) {
    long newest = Long.MIN_VALUE;
    for (Reading r : message) {
      newest = Math.max(newest, r.timeMillis());
    }
    if (spooledAtMillis <= 0 || spooledAtMillis - newest <= RuleEngine.CLOCK_RESET_MILLIS) {
      return message;
    }
    long shift = spooledAtMillis - newest;
    List<Reading> moved = new ArrayList<>(message.size());
    for (Reading r : message) {
      moved.add(new Reading(r.deviceId(), r.metric(), r.timeMillis() + shift, r.value(), r.seq()));
    }
    return moved;
  }

  /** The readings through the rule engine's restart replay (waits for it); empties the list. */
  private void replay(List<Reading> readings) {
    if (readings.isEmpty()) {
      return;
    }
    try {
      rules.restore(new RestoreSnapshot(List.of(), Map.of(), readings)).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("rule engine replay of spooled readings failed: " + e, e);
    }
    readings.clear();
  }

  /**
   * Warms the alarm path outside the ledger (rule transitions, alarm writer, live feed) with
   * synthetic devices and throwaway sinks: see {@link AlarmPathWarmUp}. Leaves nothing a user sees.
   */
  AlarmPathWarmUp.Result warmUpAlarmPath() {
    return AlarmPathWarmUp.run(ruleBook, dashboard.vertx(), AlarmPathWarmUp.CYCLES);
  }

  // ---- parts ----

  /**
   * Network timeout of the alarm ledger's, escalation's and the outbox's connections on the {@code
   * safegrid} pool ({@link NetworkTimeoutDataSource}): the longest wait for one answer from the
   * database. Their statements take milliseconds (a lock wait behind an officer's action, or the
   * ledger's {@code pg_terminate_backend(pid, 5000)}, a few seconds); TCP alone gives up on a
   * silent cut after ~15 min (review7 R9).
   */
  static final Duration LEDGER_NETWORK_TIMEOUT = Duration.ofSeconds(10);

  /**
   * Network timeout of retention's connections ({@code drop_chunks} of whole day chunks, the dead
   * letters' bounds: normally well under a second; generous, a chunk drop may wait for a lock).
   */
  static final Duration RETENTION_NETWORK_TIMEOUT = Duration.ofMinutes(5);

  /**
   * The {@code safegrid} pool: the alarm ledger (through {@link NetworkTimeoutDataSource}), the
   * dashboard's queries, the schema migration, retention. No pool-wide socket timeout: a migration,
   * a retention {@code drop_chunks} or a long dashboard query may legitimately run for minutes; the
   * ledger's connections and the health check's ping set their own network timeouts per use
   * (review7 R9). TCP keepalive on, so the kernel finds a dead idle connection on its own too; a
   * new connection's connect and login give up after 5 s.
   */
  private static HikariDataSource openPool(GatewayConfig gc) {
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(gc.database().url());
    hc.setUsername(gc.database().user());
    hc.setPassword(gc.database().password());
    hc.setMaximumPoolSize(gc.database().poolSize());
    hc.setPoolName("safegrid");
    hc.setConnectionTimeout(5_000);
    hc.setInitializationFailTimeout(5_000);
    hc.addDataSourceProperty("tcpKeepAlive", "true");
    // a new connection's TCP connect and login (pgjdbc, seconds): HikariCP makes connections on one
    // thread, so a login that never gets an answer (a silent cut) would stop the pool from ever
    // making another, even after the network is back (review7 R9)
    hc.addDataSourceProperty("connectTimeout", "5");
    hc.addDataSourceProperty("loginTimeout", "5");
    try {
      // HikariCP's own alive-bypass window (500 ms), not LedgerPool's 5 minutes: kept while only
      // the ledger's and the health check's connections are bounded (review7 R9); the check costs
      // a quiet site's alarm one round trip (docs/alerting.md "A dead pooled connection")
      return new HikariDataSource(hc);
    } catch (RuntimeException e) {
      throw new GatewayStartException(
          "cannot reach the database at " + gc.database().maskedUrl() + " as " + gc.database().effectiveUser()
              + " (start the local one with `bin/safegrid db start`, or set SAFEGRID_DB_URL): "
              + rootMessage(e), e);
    }
  }

  private DashboardServer startDashboard(Site site, GatewayConfig gc) {
    TokenTable.Builder tokens = TokenTable.builder();
    for (DashboardToken t : gc.dashboard().tokens()) {
      tokens.add(t.token(), t.name() == null ? t.role() : t.name(),
          DashboardToken.OFFICER.equals(t.role()) ? Role.OFFICER : Role.VIEWER);
    }
    return DashboardServer.builder()
        .port(gc.ports().http())
        .dataSource(dataSource)
        .alarmService(ledger)
        .tokens(tokens.build())
        .registry(registry)
        .grid(DashboardGrid.of(site))
        .health(this::spoolHealth)
        .build()
        .start();
  }

  /**
   * CoAP device presence for the live page: online at the first message, offline after the
   * device's inactivity timeout (the rule engine's: report interval x offline_after_intervals).
   */
  private CoapPresence coapPresence(SiteDirectory directory, RuleBook ruleBook, LiveFeed live) {
    Map<String, Long> timeouts = new java.util.concurrent.ConcurrentHashMap<>();
    CoapPresence presence = new CoapPresence(
        live::deviceStatus,
        id -> timeouts.computeIfAbsent(id, k -> directory.find(k)
            .map(p -> ruleBook.ruleSetFor(p).inactivity(p.reportIntervalMillis()).timeoutMillis())
            .orElse(DEFAULT_COAP_INACTIVITY_MS)),
        System::currentTimeMillis).start(1_000);
    started.push(new Part("coap presence", presence));
    return presence;
  }

  /** Inactivity timeout of a CoAP device the site does not know (it cannot authenticate anyway). */
  private static final long DEFAULT_COAP_INACTIVITY_MS = 15 * 60_000L;

  private void startCoap(GatewayConfig gc, SiteDirectory directory, CoapPresence presence) {
    CoapSettings d = CoapSettings.defaults();
    CoapIngestServer coap = new CoapIngestServer(
        new CoapSettings(d.host(), gc.ports().coap(), gc.ports().coaps(), d.maxBodyBytes(),
            EnumSet.copyOf(d.plainAllowedTypes()), d.overloadMaxAgeSeconds())
            // plain CoAP's last known good sources survive a restart (review8 R8-3; docs/coap.md)
            .withLastGoodSourcesFile(Path.of(gc.storage().spoolDir()).toAbsolutePath().resolveSibling("coap-last-good-sources")),
        ingest, directory::secret, directory::type, registry, presence);
    coap.start();
    started.push(new Part("coap", coap));
    coapPort = coap.coapPort();
    coapsPort = coap.coapsPort();
  }

  /** Durable storage: batched COPY into TimescaleDB, the local spool while it is unreachable. */
  private TimescaleReadingStore openReadingStore(GatewayConfig gc, AlarmWriter writer) {
    io.safegrid.gateway.config.StorageConfig s = gc.storage();
    long segment = Math.min(16L << 20, s.spoolMaxBytes());
    StorageConfig sc =
        StorageConfig.defaults(
                gc.database().url(), gc.database().user(), gc.database().password(),
                Path.of(s.spoolDir()))
            .withBatch(s.batchSize(), Duration.ofMillis(s.batchWindowMs()))
            .withSpool(s.spoolMaxBytes(), segment);
    return new TimescaleReadingStore(sc, registry, new SpoolReplayGate(writer, LEFTOVER_LEDGER_WAIT));
  }

  /**
   * The {@code spool} check of {@code GET /api/health} (docs/dashboard.md): down while the spool is
   * full (the gateway then refuses data: no PUBACK, CoAP 5.03); {@code spooling} is true while the
   * database is treated as unreachable. Absent until the store is open. Also {@code retention}
   * ({@link #retentionHealth}) and {@code notifications} (the emergency network broker and
   * webhooks: {@link io.safegrid.alerting.outbox.OutboxDispatcher#health()}, degraded while a
   * call-out cannot be delivered; newcomer8 N7).
   */
  private Map<String, HealthReport> spoolHealth() {
    Map<String, HealthReport> checks = new java.util.LinkedHashMap<>();
    TimescaleReadingStore s = store;
    if (s != null) {
      Map<String, Object> details = new java.util.LinkedHashMap<>();
      details.put("spooling", s.spooling());
      details.put("full", s.spoolFull());
      checks.put("spool", s.spoolFull() ? HealthReport.down(details) : HealthReport.up(details));
    }
    RetentionJob r = retention;
    if (r != null) {
      checks.put("retention", retentionHealth(r.status()));
    }
    Alerting a = alerting;
    if (a != null) { // the emergency network: degraded while a call-out cannot be delivered (newcomer8 N7)
      io.safegrid.alerting.outbox.OutboxDispatcher.Health n = a.outbox().health();
      checks.put("notifications", n.degraded() ? HealthReport.degraded(n.details()) : HealthReport.up(n.details()));
    }
    return checks;
  }

  /**
   * The {@code retention} check of {@code GET /api/health} (docs/storage.md "Retention"): down when
   * readings are not dropped at all (TimescaleDB missing or of an unknown version) or its runs keep
   * failing ({@link RetentionJob.Status#up()}): the disk fills and the ledger on it goes down next.
   */
  static HealthReport retentionHealth(RetentionJob.Status st) {
    Map<String, Object> details = new java.util.LinkedHashMap<>();
    details.put("mode", st.mode() == null ? null : st.mode().name().toLowerCase(java.util.Locale.ROOT));
    details.put("timescaledb", st.timescaleVersion());
    details.put("failedRuns", st.failedRuns());
    details.put("failingRuns", st.failingRuns());
    details.put("deadLetterFailingRuns", st.deadLetterFailingRuns());
    details.put("lastError", st.lastError());
    return st.up() ? HealthReport.up(details) : HealthReport.down(details);
  }

  /** MQTT 3.1.1/5 server (Netty): devices authenticate with id and secret ({@link SiteSecretAuthenticator}). */
  private void startMqtt(GatewayConfig gc, Site site, LiveFeed live) {
    Map<String, String> secrets = new HashMap<>();
    for (Device d : site.devices()) {
      secrets.put(d.id(), d.secret());
    }
    io.safegrid.gateway.config.MqttLimits l = gc.mqtt();
    MqttServer.Builder builder = MqttServer.builder();
    if (l.tls() != null) {
      builder.tls(new MqttTls(l.tls().port(), new java.io.File(l.tls().certificateChain()),
          new java.io.File(l.tls().privateKey()), l.tls().keyPassword()));
    }
    MqttServer mqtt = builder
        .port(gc.ports().mqtt())
        .ingest(ingest)
        .authenticator(SiteSecretAuthenticator.of(secrets)) // no key derivation per device at start
        .limits(MqttLimits.defaults()
            .withMaxPacketBytes(l.maxPacketBytes())
            .withMaxConnections(l.maxConnections())
            .withMessagesPerSecondPerDevice(l.perDeviceRatePerS()))
        .meterRegistry(registry)
        // one event loop per core, not Netty's 2 x cores: on 2 cores the extra loops only add
        // context switches next to the rule shards, storage writers and PostgreSQL (bench/alarm_path.sh
        // A/B, docs/performance.md: publish-to-alarm p50 10.7 -> 8.1 ms, p90 25 -> 15 ms)
        .ioThreads(Math.max(1, Runtime.getRuntime().availableProcessors()))
        .presence(e -> live.deviceStatus(
            e.deviceId(), e.online(), e.at().toEpochMilli(),
            e.reason().name().toLowerCase(Locale.ROOT)))
        .build()
        .start();
    started.push(new Part("mqtt", mqtt));
    mqttPort = mqtt.port();
    if (l.tls() != null) {
      log.info("MQTT over TLS on port {}", mqtt.tlsPort());
    }
  }

  private static AlertingConfig alertingConfig(GatewayConfig gc) {
    EmergencyNetworkConfig en = gc.emergencyNetwork();
    MqttChannelConfig mqtt =
        en.brokerUrl() == null
            ? null
            : new MqttChannelConfig(
                en.brokerUrl(), en.clientId(), en.topicPrefix(), en.username(), en.password(), null);
    List<WebhookConfig> hooks = new ArrayList<>();
    for (Webhook w : gc.webhooks()) {
      hooks.add(new WebhookConfig(
          w.name(), URI.create(w.url()), w.secret(), Set.copyOf(w.recipients()), null));
    }
    return new AlertingConfig(null, null, null, mqtt, hooks);
  }

  private interface Step {
    void run() throws Exception;
  }

  private static void step(String name, Step s) {
    try {
      s.run();
    } catch (GatewayStartException e) {
      throw e;
    } catch (Exception e) {
      throw new GatewayStartException(name + " failed: " + rootMessage(e), e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + t.getMessage() + ")";
  }

  // ---- accessors ----

  /** The ports actually bound; -1 for a part that is not running. */
  public BoundPorts ports() {
    return ports;
  }

  /** The configuration it runs with. */
  public LoadedConfig config() {
    return config;
  }

  /** The gateway's database pool. */
  public DataSource dataSource() {
    return dataSource;
  }

  /** What the schema migration found (TimescaleDB version, licence, schema version). */
  public SchemaMigrator.Result schema() {
    return schema;
  }

  /** The shared decode-and-store path. */
  public IngestSink ingest() {
    return ingest;
  }

  /** The metrics registry ({@code /metrics}). */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Stops every started part in reverse start order; safe to call twice. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    log.info("stopping SafeGrid");
    while (!started.isEmpty()) {
      Part p = started.pop();
      try {
        p.closer().close();
        log.debug("stopped {}", p.name());
      } catch (Exception e) {
        log.warn("stopping {} failed: {}", p.name(), e.toString());
      }
    }
    log.info("SafeGrid stopped");
  }
}
