package io.safegrid.dashboard;

import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyEventExecutorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.PooledByteBufAllocator;
import io.safegrid.alerting.ledger.AlarmService;
import io.safegrid.dashboard.api.AlarmRoutes;
import io.safegrid.dashboard.api.DeviceQueries;
import io.safegrid.dashboard.api.DeviceRoutes;
import io.safegrid.dashboard.auth.BearerAuthHandler;
import io.safegrid.dashboard.auth.TokenTable;
import io.safegrid.dashboard.grid.GridNode;
import io.safegrid.dashboard.http.AllowedMethods;
import io.safegrid.dashboard.http.ErrorHandler;
import io.safegrid.dashboard.http.HealthReport;
import io.safegrid.dashboard.http.Json;
import io.safegrid.dashboard.http.RequestMetrics;
import io.safegrid.dashboard.live.LiveFeed;
import io.safegrid.dashboard.live.LiveStream;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The duty officers' HTTP server: REST API, live stream (SSE), Prometheus {@code /metrics} and the
 * page at {@code /}. See {@code /api/openapi.yaml} for every endpoint and shape.
 *
 * <p>How the gateway uses it:
 *
 * <pre>{@code
 * PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
 * DashboardServer dashboard = DashboardServer.builder()
 *     .port(config.httpPort())                 // 0 = a free port
 *     .dataSource(hikari)                      // TimescaleDB pool
 *     .alarmService(alarmService)              // the JDBC ledger
 *     .tokens(TokenTable.builder().officer("...", "duty-zhang").viewer("...", "screen").build())
 *     .registry(registry)
 *     .health(() -> Map.of("spool", HealthReport.up(Map.of("batches", spool.batches()))))
 *     .grid(gridTree)                          // List<GridNode>: communities -> compounds -> buildings
 *     .build()
 *     .start();                                // blocks until listening
 * int port = dashboard.port();
 * LiveFeed live = dashboard.liveFeed();        // publish device online/offline and stored readings
 * ...
 * dashboard.stop();
 * }</pre>
 *
 * <p>Without {@link Builder#vertx}, it creates (and on {@link #stop} closes) its own Vert.x with
 * Vert.x's Micrometer metrics bound to the registry. A Vert.x passed in should be created with
 * {@link #newVertx(PrometheusMeterRegistry)} for the same effect.
 */
public final class DashboardServer {
  private static final Logger log = LoggerFactory.getLogger(DashboardServer.class);

  /**
   * Default idle timeout of an HTTP connection: 60 s without a byte either way (newcomer7 F29: an
   * unfinished request header held its socket for ever).
   */
  public static final java.time.Duration DEFAULT_IDLE_TIMEOUT = java.time.Duration.ofSeconds(60);

  /** Default per-client live queue: unwritten events before a slow client is dropped. */
  public static final int DEFAULT_CLIENT_QUEUE = 1024;

  private final Builder b;
  private final Vertx vertx;
  private final boolean ownVertx;
  private final LiveFeed liveFeed;
  private final DeviceQueries queries;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private LiveStream liveStream;
  private HttpServer server;

  private DashboardServer(Builder b) {
    this.b = b;
    this.ownVertx = b.vertx == null;
    this.vertx = ownVertx ? newVertx(b.registry) : b.vertx;
    this.liveFeed = b.liveFeed == null ? new LiveFeed() : b.liveFeed;
    this.queries = new DeviceQueries(b.dataSource);
  }

  /** A builder; dataSource, alarmService and tokens are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A Vert.x whose HTTP server, pools and event bus report to the registry (names {@code
   * vertx_*}), on Netty's native epoll transport when its library is on the class path (the
   * gateway's is: the MQTT server uses it), else on NIO. Why: every live frame ({@code /api/live})
   * is handed to an idle event loop that must wake, write and go back to waiting; the MQTT loops
   * spent less CPU per wake-up on epoll than on NIO (docs/mqtt.md, "Socket transport"). For the
   * live hop itself one A/B (docs/performance.md, "Round 4"): live fan-out -> frame written p50
   * 0.88 and 0.78 ms on NIO against 0.65 and 0.65 ms on epoll, within this machine's spread.
   * Vert.x takes epoll before io_uring, so this stays on epoll while io_uring is on the class path.
   */
  public static Vertx newVertx(PrometheusMeterRegistry registry) {
    return Vertx.builder()
        .with(
            new VertxOptions()
                .setPreferNativeTransport(true)
                .setMetricsOptions(
                    new MicrometerMetricsOptions()
                        .setEnabled(true)
                        .setJvmMetricsEnabled(false)))
        .withMetrics(new MicrometerMetricsFactory(registry))
        .build();
  }

  /**
   * Binds the routes and listens. Blocks until the port is bound.
   *
   * @return this
   * @throws IllegalStateException when the port cannot be bound (within 30 s)
   */
  public DashboardServer start() {
    bindMeters();
    AlarmService alarms = b.alarmService;
    liveStream =
        new LiveStream(
            vertx, alarms, liveFeed, this::lastAlarmEventId, b.registry, b.clientQueueCapacity);
    alarms.addListener(liveFeed::alarmEvent);

    Router router = Router.router(vertx);
    ErrorHandler errors = new ErrorHandler(b.registry);
    router.route().handler(new RequestMetrics(b.registry));
    router.get("/api/health").handler(this::health);
    router.get("/metrics").handler(this::metrics);
    router.get("/api/live").handler(BearerAuthHandler.allowingQueryToken(b.tokens));
    router.route("/api/*").handler(BearerAuthHandler.create(b.tokens));
    router.post("/api/*").handler(BodyHandler.create(false).setBodyLimit(16 * 1024));

    DeviceRoutes devices = new DeviceRoutes(vertx, queries, liveFeed);
    router.get("/api/devices").handler(devices::list);
    router.get("/api/devices/:id").handler(devices::get);
    router.get("/api/devices/:id/readings").handler(devices::readings);
    AlarmRoutes alarmRoutes = new AlarmRoutes(vertx, alarms);
    router.get("/api/alarms").handler(alarmRoutes::list);
    router.get("/api/alarms/:id").handler(alarmRoutes::get);
    router.post("/api/alarms/:id/ack").handler(alarmRoutes::acknowledge);
    router.post("/api/alarms/:id/close").handler(alarmRoutes::close);
    router.get("/api/live").handler(liveStream::stream);
    router.get("/api/live/snapshot").handler(liveStream::snapshot);
    router
        .get("/api/me")
        .handler(
            ctx -> {
              var p = BearerAuthHandler.principal(ctx);
              Json.respond(ctx, 200, Map.of("name", p.name(), "role", p.role().wireName()));
            });
    router.get("/api/grid").handler(ctx -> Json.respond(ctx, 200, Map.of("communities", b.grid)));
    String openapi = resource("/io/safegrid/dashboard/openapi.yaml");
    router
        .get("/api/openapi.yaml")
        .handler(
            ctx ->
                ctx.response()
                    .putHeader("Content-Type", "application/yaml; charset=utf-8")
                    .end(openapi));
    // a path no route above took: 405 with Allow when other methods serve it (the routes above,
    // read from the router: one list), else 404
    router.route("/api/*").handler(new AllowedMethods().addRoutes(router.getRoutes(), "/api/"));
    router
        .route("/*")
        .handler(
            ctx -> {
              ctx.response()
                  .putHeader(
                      "Content-Security-Policy",
                      "default-src 'self'; img-src 'self' data:; style-src 'self';"
                          + " script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
                  .putHeader("X-Content-Type-Options", "nosniff")
                  .putHeader("Referrer-Policy", "no-referrer");
              ctx.next();
            });
    router
        .route("/*")
        .handler(StaticHandler.create("webroot").setIndexPage("index.html").setMaxAgeSeconds(60));
    router.route().failureHandler(errors);
    router.errorHandler(404, errors.notFound());
    router.errorHandler(405, errors);
    router.errorHandler(500, errors);

    try {
      server =
          vertx
              .createHttpServer(new HttpServerOptions().setHost(b.host).setPort(b.port)
                  // a connection that neither sends nor receives for this long is closed: an
                  // unfinished request header no longer holds a socket (and a file descriptor the
                  // MQTT listener shares) for ever; /api/live writes a keepalive every 15 s
                  .setIdleTimeout((int) Math.max(1, b.idleTimeout.toSeconds()))
                  .setIdleTimeoutUnit(TimeUnit.SECONDS))
              .requestHandler(router)
              .listen()
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("dashboard cannot listen on " + b.host + ":" + b.port, e);
    }
    log.info("dashboard listening on http://{}:{}/", b.host, server.actualPort());
    return this;
  }

  /** The bound port (the free port chosen when configured with 0). */
  public int port() {
    if (server == null) {
      throw new IllegalStateException("not started");
    }
    return server.actualPort();
  }

  /** Where the gateway publishes device online/offline changes and stored readings. */
  public LiveFeed liveFeed() {
    return liveFeed;
  }

  /** The Vert.x this server runs on. */
  public Vertx vertx() {
    return vertx;
  }

  /** Stops listening, ends live streams, closes its own Vert.x (not one passed in). */
  public void stop() {
    try {
      if (liveStream != null) {
        liveStream.close();
      }
      if (server != null) {
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
      if (ownVertx) {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      log.warn("dashboard stop", e);
    }
    for (AutoCloseable c : closeables) {
      try {
        c.close();
      } catch (Exception e) {
        log.debug("closing meter binder", e);
      }
    }
  }

  private long lastAlarmEventId() {
    try {
      return queries.lastAlarmEventId();
    } catch (Exception e) {
      log.debug("no alarm_events max id ({}); using the live feed's", e.toString());
      return liveFeed.lastAlarmEventId();
    }
  }

  private void health(io.vertx.ext.web.RoutingContext ctx) {
    vertx
        .executeBlocking(
            () -> {
              Map<String, Object> checks = new LinkedHashMap<>();
              boolean up = true;
              Map<String, HealthReport> extra = Map.of();
              try {
                extra = b.health.get();
              } catch (RuntimeException e) {
                up = false;
                checks.put("gateway", Map.of("up", false, "error", String.valueOf(e)));
              }
              if (!extra.containsKey("database")) {
                HealthReport db;
                try {
                  db = HealthReport.up(Map.of("latencyMs", queries.ping()));
                } catch (Exception e) {
                  db = HealthReport.down(Map.of("error", e.getMessage() == null ? e.toString() : e.getMessage()));
                }
                checks.put("database", flat(db));
                up &= db.up();
              }
              boolean degraded = false;
              for (Map.Entry<String, HealthReport> e : extra.entrySet()) {
                checks.put(e.getKey(), flat(e.getValue()));
                up &= e.getValue().up();
                degraded |= e.getValue().degraded();
              }
              checks.put("live", Map.of("up", true, "clients", liveFeed.clients()));
              Map<String, Object> body = new LinkedHashMap<>();
              body.put("status", !up ? "down" : degraded ? "degraded" : "up"); // degraded: still 200
              body.put("time", Instant.now().toString());
              body.put("checks", checks);
              return body;
            },
            false)
        .onSuccess(body -> Json.respond(ctx, "down".equals(body.get("status")) ? 503 : 200, body))
        .onFailure(ctx::fail);
  }

  private static Map<String, Object> flat(HealthReport r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("up", r.up());
    if (r.degraded()) {
      m.put("degraded", true);
    }
    m.putAll(r.details());
    return m;
  }

  private void metrics(io.vertx.ext.web.RoutingContext ctx) {
    vertx
        .executeBlocking(b.registry::scrape, false)
        .onSuccess(
            text ->
                ctx.response()
                    .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                    .end(text))
        .onFailure(ctx::fail);
  }

  private void bindMeters() {
    var r = b.registry;
    if (b.bindJvmMetrics) {
      new JvmMemoryMetrics().bindTo(r);
      JvmGcMetrics gc = new JvmGcMetrics();
      gc.bindTo(r);
      closeables.add(gc);
      new JvmThreadMetrics().bindTo(r);
      new ClassLoaderMetrics().bindTo(r);
      new JvmInfoMetrics().bindTo(r);
      new ProcessorMetrics().bindTo(r);
      new UptimeMetrics().bindTo(r);
      new NettyAllocatorMetrics(PooledByteBufAllocator.DEFAULT).bindTo(r);
      if (vertx instanceof VertxInternal vi) {
        new NettyEventExecutorMetrics(vi.nettyEventLoopGroup()).bindTo(r);
      }
    }
    if (b.dataSource instanceof HikariDataSource h
        && h.getMetricRegistry() == null
        && h.getMetricsTrackerFactory() == null) {
      try {
        h.setMetricRegistry(r);
      } catch (RuntimeException e) {
        log.info("HikariCP metrics not bound: {}", e.getMessage());
      }
    }
  }

  private static String resource(String path) {
    try (InputStream in = DashboardServer.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Collects the parts the server is built from. */
  public static final class Builder {
    private Vertx vertx;
    private String host = "0.0.0.0";
    private int port = 8080;
    private DataSource dataSource;
    private AlarmService alarmService;
    private TokenTable tokens;
    private PrometheusMeterRegistry registry;
    private Supplier<Map<String, HealthReport>> health = Map::of;
    private List<GridNode> grid = List.of();
    private LiveFeed liveFeed;
    private int clientQueueCapacity = DEFAULT_CLIENT_QUEUE;
    private boolean bindJvmMetrics = true;
    private java.time.Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;

    private Builder() {}

    /**
     * How long an HTTP connection may stay without a byte either way before it is closed
     * (default {@link #DEFAULT_IDLE_TIMEOUT}; whole seconds, at least 1 s; longer than the live
     * stream's 15 s keepalive).
     *
     * @throws IllegalArgumentException when under 1 s
     */
    public Builder idleTimeout(java.time.Duration timeout) {
      if (timeout.toSeconds() < 1) {
        throw new IllegalArgumentException("idle timeout must be at least 1 s: " + timeout);
      }
      this.idleTimeout = timeout;
      return this;
    }

    /** Runs on this Vert.x (not closed by stop); default: its own. */
    public Builder vertx(Vertx vertx) {
      this.vertx = vertx;
      return this;
    }

    /** Interface to bind, default {@code 0.0.0.0}; tests use {@code 127.0.0.1}. */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host);
      return this;
    }

    /** TCP port, default 8080 ({@code SAFEGRID_HTTP_PORT}); 0 picks a free one. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port out of range: " + port);
      }
      this.port = port;
      return this;
    }

    /** The TimescaleDB pool for devices, readings and health. */
    public Builder dataSource(DataSource dataSource) {
      this.dataSource = dataSource;
      return this;
    }

    /** The alarm ledger. */
    public Builder alarmService(AlarmService alarmService) {
      this.alarmService = alarmService;
      return this;
    }

    /** Bearer tokens and roles. */
    public Builder tokens(TokenTable tokens) {
      this.tokens = tokens;
      return this;
    }

    /** Where meters go and what {@code /metrics} scrapes; default a new one. */
    public Builder registry(PrometheusMeterRegistry registry) {
      this.registry = registry;
      return this;
    }

    /**
     * Extra health components for {@code /api/health}, e.g. {@code "spool"}; called on a worker
     * thread per request. Without a {@code "database"} entry the server pings the DataSource.
     */
    public Builder health(Supplier<Map<String, HealthReport>> health) {
      this.health = Objects.requireNonNull(health);
      return this;
    }

    /** The grid tree (communities -> compounds -> buildings) served at {@code /api/grid}. */
    public Builder grid(List<GridNode> communities) {
      this.grid = List.copyOf(communities);
      return this;
    }

    /** Use this feed (default: a new one, see {@link DashboardServer#liveFeed()}). */
    public Builder liveFeed(LiveFeed liveFeed) {
      this.liveFeed = liveFeed;
      return this;
    }

    /** Unwritten live events a client may lag before it is dropped, default 1024. */
    public Builder clientQueueCapacity(int capacity) {
      if (capacity < 1) {
        throw new IllegalArgumentException("capacity must be positive");
      }
      this.clientQueueCapacity = capacity;
      return this;
    }

    /** Bind JVM, processor, uptime and Netty meters (default true; false if the gateway does). */
    public Builder bindJvmMetrics(boolean bind) {
      this.bindJvmMetrics = bind;
      return this;
    }

    /**
     * @throws NullPointerException when dataSource, alarmService or tokens is missing
     */
    public DashboardServer build() {
      Objects.requireNonNull(dataSource, "dataSource");
      Objects.requireNonNull(alarmService, "alarmService");
      Objects.requireNonNull(tokens, "tokens");
      if (registry == null) {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      }
      return new DashboardServer(this);
    }
  }
}
