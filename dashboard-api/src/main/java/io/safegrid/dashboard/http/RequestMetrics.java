package io.safegrid.dashboard.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Times every HTTP request into {@code safegrid.http.requests} (a Micrometer timer, seconds in
 * Prometheus) with tags {@code method}, {@code route} (the matched route template, e.g. {@code
 * /api/alarms/:id}, never the raw path, so ids do not explode the tag set) and {@code status}. A
 * server-sent events stream is timed when it ends.
 */
public final class RequestMetrics implements Handler<RoutingContext> {
  private final MeterRegistry registry;

  public RequestMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void handle(RoutingContext ctx) {
    long start = System.nanoTime();
    ctx.addEndHandler(
        ar -> {
          String route = ctx.currentRoute() == null ? null : ctx.currentRoute().getPath();
          if (route == null) {
            route = ctx.normalizedPath().startsWith("/api/") ? "unmatched" : "static";
          }
          Timer.builder("safegrid.http.requests")
              .description("HTTP requests of the dashboard API and page")
              .tag("method", ctx.request().method().name())
              .tag("route", route)
              .tag("status", Integer.toString(ctx.response().getStatusCode()))
              .register(registry)
              .record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
        });
    ctx.next();
  }
}
