package io.safegrid.gateway.wiring;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;

/**
 * Keeps Micrometer's "This Gauge has been already registered (MeterId{name='vertx.http.server.
 * active.connections', ...})" WARN out of the gateway's log (the {@code STDOUT} appender in {@code
 * logback.xml}); every other event passes.
 *
 * <p>Why it came: Vert.x's Micrometer metrics (vertx-micrometer-metrics 5.0.7) register the gauge
 * of active connections again for every new HTTP connection, on purpose: the gauge's value is a
 * {@code LongAdder} Vert.x keeps per meter id, and registering again is how it finds that adder
 * (vert-x3/vertx-micrometer-metrics issue 259). Micrometer 1.13.9 and later log such a
 * re-registration once at WARN, then at DEBUG (micrometer issue 6931 discusses the case). So the
 * gateway logged it at the second HTTP connection after a start: nothing was counted twice and
 * nothing was wrong. Our own meters are registered once ({@code GaugeRegistrationLogTest} checks
 * that no {@code safegrid.*} meter is registered again); no {@code vertx_*} series changes.
 *
 * <p>Only a WARN of logger {@value #MICROMETER_LOGGER} about a meter named {@code vertx.*} is
 * denied. Micrometer warns once per JVM whatever the meter, so a later re-registration of any meter
 * would be a DEBUG line with or without this filter.
 */
public final class VertxGaugeReRegistrationFilter extends Filter<ILoggingEvent> {

  /** The logger Micrometer's double-registration warning comes from. */
  public static final String MICROMETER_LOGGER = "io.micrometer.core.instrument.MeterRegistry";

  /** What the warning says about a Vert.x meter (Micrometer 1.17: "... (MeterId{name='vertx...."). */
  static final String VERTX_METER_RE_REGISTERED = "has been already registered (MeterId{name='vertx.";

  @Override
  public FilterReply decide(ILoggingEvent event) {
    if (event.getLevel() == Level.WARN && MICROMETER_LOGGER.equals(event.getLoggerName())) {
      String message = event.getFormattedMessage();
      if (message != null && message.contains(VERTX_METER_RE_REGISTERED)) {
        return FilterReply.DENY;
      }
    }
    return FilterReply.NEUTRAL;
  }
}
