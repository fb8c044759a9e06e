package io.safegrid.gateway.wiring;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.read.ListAppender;
import ch.qos.logback.core.spi.FilterReply;
import io.safegrid.gateway.config.EmergencyNetworkConfig;
import io.safegrid.gateway.config.GatewayConfig;
import io.safegrid.gateway.config.LoadedConfig;
import io.safegrid.gateway.config.ShippedConfig;
import io.safegrid.gateway.config.StorageConfig;
import io.safegrid.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The gateway's log has no "This Gauge has been already registered" WARN after HTTP requests
 * (newcomer5 F7: {@code vertx.http.server.active.connections} at the first request), and none of
 * our own meters is registered twice.
 *
 * <p>Micrometer warns about a re-registration once per JVM, then logs at DEBUG: another test in
 * this JVM may already have had the WARN. So the test turns that logger to DEBUG and sees every
 * re-registration; what the console would print is checked through the {@code STDOUT} appender's
 * own filters ({@code logback.xml}, the gateway's, is the tests' configuration too).
 */
class GaugeRegistrationLogTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @Test
  void noGaugeReRegistrationWarningInTheLogAndOursAreRegisteredOnce(@TempDir Path spool) throws Exception {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Appender<ILoggingEvent> stdout = root.getAppender("STDOUT");
    assertThat(stdout).as("the gateway's logback.xml configures the tests' logging").isNotNull();
    // what the console prints: every event reaching root, through STDOUT's filters
    ListAppender<ILoggingEvent> printed = new ListAppender<>();
    printed.setContext(context);
    for (Filter<ILoggingEvent> f : ((UnsynchronizedAppenderBase<ILoggingEvent>) stdout).getCopyOfAttachedFiltersList()) {
      printed.addFilter(f);
    }
    printed.start();
    // every re-registration, before and after Micrometer's one WARN
    ch.qos.logback.classic.Logger micrometer = context.getLogger(VertxGaugeReRegistrationFilter.MICROMETER_LOGGER);
    Level level = micrometer.getLevel();
    ListAppender<ILoggingEvent> reRegistrations = new ListAppender<>();
    reRegistrations.setContext(context);
    reRegistrations.start();
    root.addAppender(printed);
    micrometer.addAppender(reRegistrations);
    micrometer.setLevel(Level.DEBUG);
    try {
      LoadedConfig shipped = ShippedConfig.onTestDatabase(db);
      GatewayConfig gc = shipped.gateway()
          .withEmergencyNetwork(new EmergencyNetworkConfig(null, null, null, null, null))
          .withStorage(new StorageConfig(spool.toString(), 64L << 20, 5000, 10));
      try (Gateway g = Gateway.start(new LoadedConfig(shipped.file(), shipped.site(), gc))) {
        int http = g.ports().http();
        for (String path : List.of("/api/health", "/metrics", "/api/devices", "/api/alarms", "/metrics", "/api/health")) {
          // a new client each time: a new HTTP connection each time, as curl makes
          HttpClient client = HttpClient.newHttpClient();
          HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + path))
              .header("Authorization", "Bearer demo-viewer-token").build(), HttpResponse.BodyHandlers.ofString());
          assertThat(r.statusCode()).as(path).isEqualTo(200);
        }
      }
    } finally {
      micrometer.setLevel(level);
      micrometer.detachAppender(reRegistrations);
      root.detachAppender(printed);
    }

    List<String> again = reRegistrations.list.stream().map(ILoggingEvent::getFormattedMessage)
        .filter(m -> m.contains("already registered")).toList();
    assertThat(again).as("Vert.x registers its connection gauge again for every new HTTP connection (the cause)")
        .anyMatch(m -> m.contains("MeterId{name='vertx.http.server.active.connections'"));
    assertThat(again).as("none of our meters (safegrid.*, jvm, netty, hikaricp) is registered twice")
        .allMatch(m -> m.contains("MeterId{name='vertx."));
    assertThat(printed.list).as("the console log")
        .noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.WARN) && e.getFormattedMessage().contains("already registered"));
    // had this JVM's one WARN come in this test, the console drops it (and only such a one)
    ch.qos.logback.classic.Logger logger = context.getLogger(VertxGaugeReRegistrationFilter.MICROMETER_LOGGER);
    LoggingEvent vertxWarn = new LoggingEvent(getClass().getName(), logger, Level.WARN, again.get(0), null, null);
    assertThat(stdout.getFilterChainDecision(vertxWarn)).isEqualTo(FilterReply.DENY);
    LoggingEvent oursWarn = new LoggingEvent(getClass().getName(), logger, Level.WARN,
        "This Gauge has been already registered (MeterId{name='safegrid.live.clients', tags=[]})", null, null);
    assertThat(stdout.getFilterChainDecision(oursWarn)).isEqualTo(FilterReply.NEUTRAL);
  }
}
