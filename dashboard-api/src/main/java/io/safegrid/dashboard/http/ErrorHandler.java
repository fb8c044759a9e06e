package io.safegrid.dashboard.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.safegrid.alerting.ledger.AlarmNotFoundException;
import io.safegrid.alerting.ledger.AlarmStoreException;
import io.safegrid.alerting.ledger.IllegalAlarmTransitionException;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The router's failure handler: every failure becomes {@code {"error": "...", "detail": "..."}}.
 * {@link ApiException} keeps its status; {@link AlarmNotFoundException} is 404; {@link
 * IllegalAlarmTransitionException} is 409; {@link IllegalArgumentException} is 400; an {@link
 * AlarmStoreException} caused by a broken or refused database connection (SQLSTATE class 08,
 * 57P01-57P03) is 503 {@code database_unavailable} (logged at WARN: try again; an officer's action
 * whose commit was in doubt is not done twice when retried); anything else is 500 (logged, detail
 * hidden). Rejected requests are counted in {@code
 * safegrid.http.rejected} (tags {@code status}, {@code error}).
 */
public final class ErrorHandler implements Handler<RoutingContext> {
  private static final Logger log = LoggerFactory.getLogger(ErrorHandler.class);
  private final MeterRegistry registry;

  public ErrorHandler(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void handle(RoutingContext ctx) {
    Throwable t = ctx.failure();
    int status;
    String error;
    String detail;
    if (t instanceof ApiException a) {
      status = a.status();
      error = a.error();
      detail = a.detail();
    } else if (t instanceof AlarmNotFoundException) {
      status = 404;
      error = "not_found";
      detail = t.getMessage();
    } else if (t instanceof IllegalAlarmTransitionException) {
      status = 409;
      error = "illegal_transition";
      detail = t.getMessage();
    } else if (t instanceof IllegalArgumentException) {
      status = 400;
      error = "bad_request";
      detail = t.getMessage();
    } else if (t instanceof AlarmStoreException && connectionFailure(t)) {
      status = 503;
      error = "database_unavailable";
      detail = "the database could not be reached, or the connection broke before the outcome was known;"
          + " try again (an acknowledge or close retried is not done twice)";
      log.warn("{} {}: {}", ctx.request().method(), ctx.request().path(), t.toString());
    } else if (t == null) {
      status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
      error = errorFor(status);
      detail = detailFor(status, ctx);
    } else {
      status = 500;
      error = "internal";
      detail = "internal error; see the gateway log";
      log.error("{} {} failed", ctx.request().method(), ctx.request().path(), t);
    }
    Counter.builder("safegrid.http.rejected")
        .description("API requests answered with an error status")
        .tag("status", Integer.toString(status))
        .tag("error", error)
        .register(registry)
        .increment();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", error);
    body.put("detail", detail);
    Json.respond(ctx, status, body);
  }

  /** The 404 for unmatched routes (router.errorHandler(404, ...)). */
  public Handler<RoutingContext> notFound() {
    return ctx -> {
      Counter.builder("safegrid.http.rejected")
          .tag("status", "404")
          .tag("error", "not_found")
          .register(registry)
          .increment();
      Json.respond(
          ctx,
          404,
          Map.of("error", "not_found", "detail", "no such resource: " + ctx.request().path()));
    };
  }

  /** Whether a cause is a connection failure: SQLSTATE class 08, or 57P01-57P03 (backend or server ended). */
  private static boolean connectionFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof java.sql.SQLException s && s.getSQLState() != null
          && (s.getSQLState().startsWith("08") || s.getSQLState().startsWith("57P"))) {
        return true;
      }
    }
    return false;
  }

  private static String errorFor(int status) {
    return switch (status) {
      case 400 -> "bad_request";
      case 401 -> "unauthorized";
      case 403 -> "forbidden";
      case 404 -> "not_found";
      case 405 -> "method_not_allowed";
      case 413 -> "body_too_large";
      case 415 -> "unsupported_media_type";
      default -> status >= 500 ? "internal" : "error";
    };
  }

  private static String detailFor(int status, RoutingContext ctx) {
    return switch (status) {
      case 404 -> "no such resource: " + ctx.request().path();
      case 405 -> "method " + ctx.request().method() + " not allowed on " + ctx.request().path();
      case 413 -> "request body too large";
      default -> "HTTP " + status;
    };
  }
}
