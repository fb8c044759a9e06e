package io.safegrid.dashboard.api;

import io.safegrid.dashboard.http.ApiException;
import io.safegrid.dashboard.http.Json;
import io.safegrid.dashboard.live.DeviceState;
import io.safegrid.dashboard.live.LiveFeed;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /api/devices}, {@code GET /api/devices/{id}} and {@code GET
 * /api/devices/{id}/readings?metric=&from=&to=&bucket=}.
 *
 * <p>Readings: {@code from}/{@code to} are epoch ms or ISO-8601 (default: the last hour up to
 * now), the range is {@code [from, to)} and at most {@value #MAX_RANGE_DAYS} days. Without {@code
 * bucket} raw readings are returned, at most {@value #MAX_POINTS} (400 beyond: give a bucket).
 * With {@code bucket} ({@code 1m}, {@code 5m}, {@code PT15M}, ...) TimescaleDB's {@code
 * time_bucket} averages them; a bucket that would give more than {@value #MAX_POINTS} buckets is a
 * 400 ("bucket too small for the range").
 */
public final class DeviceRoutes {
  /** The most points (raw readings or buckets) one response carries. */
  public static final int MAX_POINTS = 10_000;

  /** The widest time range of one readings request. */
  public static final int MAX_RANGE_DAYS = 366;

  private final Vertx vertx;
  private final DeviceQueries queries;
  private final LiveFeed feed;

  public DeviceRoutes(Vertx vertx, DeviceQueries queries, LiveFeed feed) {
    this.vertx = vertx;
    this.queries = queries;
    this.feed = feed;
  }

  /** {@code GET /api/devices?community=&compound=&building=&type=}. */
  public void list(RoutingContext ctx) {
    Map<String, String> filter = new HashMap<>();
    for (String k : List.of("community", "compound", "building", "type")) {
      String v = ctx.request().getParam(k);
      if (v != null) {
        filter.put(k, k.equals("type") ? Params.deviceType(v) : Params.checkFilter(v, k));
      }
    }
    vertx
        .executeBlocking(() -> queries.devices(filter), false)
        .onSuccess(
            devices -> {
              Map<String, DeviceState> states = feed.deviceStates();
              devices.forEach(d -> withState(d, states.get((String) d.get("id"))));
              Map<String, Object> body = new LinkedHashMap<>();
              body.put("devices", devices);
              body.put("count", devices.size());
              Json.respond(ctx, 200, body);
            })
        .onFailure(ctx::fail);
  }

  /** {@code GET /api/devices/{id}}. */
  public void get(RoutingContext ctx) {
    String id = Params.checkDeviceId(ctx.pathParam("id"), "device id");
    vertx
        .executeBlocking(() -> queries.device(id), false)
        .onSuccess(
            d -> {
              if (d.isEmpty()) {
                ctx.fail(ApiException.notFound("no device with id " + id));
                return;
              }
              Json.respond(ctx, 200, withState(d.get(), feed.deviceStates().get(id)));
            })
        .onFailure(ctx::fail);
  }

  /** {@code GET /api/devices/{id}/readings}. */
  public void readings(RoutingContext ctx) {
    String id = Params.checkDeviceId(ctx.pathParam("id"), "device id");
    String metricRaw = ctx.request().getParam("metric");
    String metric =
        metricRaw == null || metricRaw.isBlank() ? null : Params.checkMetric(metricRaw.trim());
    Instant to = Params.time(ctx.request().getParam("to"), "to", Instant.now());
    Instant from = Params.time(ctx.request().getParam("from"), "from", to.minus(Duration.ofHours(1)));
    if (!from.isBefore(to)) {
      throw ApiException.badRequest(
          "bad_range", "from (" + from + ") must be before to (" + to + ")");
    }
    Duration range = Duration.between(from, to);
    if (range.compareTo(Duration.ofDays(MAX_RANGE_DAYS)) > 0) {
      throw ApiException.badRequest(
          "range_too_wide", "the range from " + from + " to " + to + " is " + Params.plain(range) + " wide, more than "
              + MAX_RANGE_DAYS + " days");
    }
    Duration bucket = Params.bucket(ctx.request().getParam("bucket"));
    if (bucket != null && range.toMillis() / bucket.toMillis() > MAX_POINTS) {
      throw ApiException.badRequest(
          "bucket_too_small",
          "bucket "
              + Params.plain(bucket)
              + " is too small for the range of "
              + Params.plain(range)
              + ": it gives "
              + (range.toMillis() / bucket.toMillis())
              + " buckets, at most "
              + MAX_POINTS
              + "; use a bucket of at least "
              + Params.plain(Duration.ofMillis((range.toMillis() + MAX_POINTS - 1) / MAX_POINTS)));
    }
    vertx
        .executeBlocking(
            () -> {
              if (!queries.exists(id)) {
                throw ApiException.notFound("no device with id " + id);
              }
              Map<String, List<Map<String, Object>>> series =
                  bucket == null
                      ? queries.raw(id, metric, from, to, MAX_POINTS + 1)
                      : queries.bucketed(id, metric, from, to, bucket);
              int n = series.values().stream().mapToInt(List::size).sum();
              if (bucket == null && n > MAX_POINTS) {
                throw ApiException.badRequest(
                    "too_many_points",
                    "more than "
                        + MAX_POINTS
                        + " readings in the range; give a bucket (e.g. bucket=1m) or a shorter range");
              }
              List<Map<String, Object>> out = new ArrayList<>();
              series.forEach(
                  (m, points) -> {
                    Map<String, Object> s = new LinkedHashMap<>();
                    s.put("metric", m);
                    s.put("points", points);
                    out.add(s);
                  });
              Map<String, Object> body = new LinkedHashMap<>();
              body.put("deviceId", id);
              body.put("metric", metric);
              body.put("from", from.toString());
              body.put("to", to.toString());
              body.put("bucket", bucket == null ? null : bucket.toString());
              body.put("series", out);
              return body;
            },
            false)
        .onSuccess(body -> Json.respond(ctx, 200, body))
        .onFailure(ctx::fail);
  }

  private static Map<String, Object> withState(Map<String, Object> d, DeviceState s) {
    d.put("online", s == null ? null : s.online());
    d.put("onlineSince", s == null ? null : Instant.ofEpochMilli(s.sinceMillis()).toString());
    return d;
  }
}
