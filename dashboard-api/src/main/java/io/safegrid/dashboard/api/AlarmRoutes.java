package io.safegrid.dashboard.api;

import io.safegrid.alerting.ledger.AlarmService;
import io.safegrid.alerting.ledger.AlarmState;
import io.safegrid.dashboard.auth.BearerAuthHandler;
import io.safegrid.dashboard.auth.Principal;
import io.safegrid.dashboard.http.ApiException;
import io.safegrid.dashboard.http.Json;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code GET /api/alarms?state=&limit=&offset=}, {@code GET /api/alarms/{id}}, {@code POST
 * /api/alarms/{id}/ack} (body optional: {@code {"note": "..."}}) and {@code POST
 * /api/alarms/{id}/close} (body {@code {"note": "..."}}, note required: the disposal note of the
 * write-off). Ack and close need the {@code officer} role (403 otherwise); the actor written to
 * the ledger is the token's name. An action the alarm's state forbids is a 409. A U+0000 in a note
 * (which a PostgreSQL {@code text} cannot hold) is stored as U+FFFD, the rest of the note as sent:
 * an acknowledgement must not fail, and escalation go on, over a stray NUL (the gateway's ingest
 * does the same with an event's {@code text}).
 */
public final class AlarmRoutes {
  /** The longest note accepted, characters. */
  public static final int MAX_NOTE = 2000;

  private final Vertx vertx;
  private final AlarmService alarms;

  public AlarmRoutes(Vertx vertx, AlarmService alarms) {
    this.vertx = vertx;
    this.alarms = alarms;
  }

  /** {@code GET /api/alarms}: unacknowledged and most severe first, then newest first. */
  public void list(RoutingContext ctx) {
    Set<AlarmState> states = Params.states(ctx.request().getParam("state"));
    int limit = Params.intParam(ctx.request().getParam("limit"), "limit", 100, 1, 1000);
    int offset = Params.intParam(ctx.request().getParam("offset"), "offset", 0, 0, 1_000_000);
    vertx
        .executeBlocking(() -> alarms.list(states, limit, offset), false)
        .onSuccess(
            list -> {
              List<Map<String, Object>> items = new ArrayList<>(list.size());
              list.forEach(a -> items.add(AlarmJson.alarm(a)));
              Map<String, Object> body = new LinkedHashMap<>();
              body.put("alarms", items);
              body.put("limit", limit);
              body.put("offset", offset);
              body.put("nextOffset", list.size() == limit ? offset + limit : null);
              Json.respond(ctx, 200, body);
            })
        .onFailure(ctx::fail);
  }

  /** {@code GET /api/alarms/{id}}: the alarm with {@code history}, oldest first. */
  public void get(RoutingContext ctx) {
    long id = Params.alarmId(ctx.pathParam("id"));
    vertx
        .executeBlocking(
            () -> {
              var alarm =
                  alarms.find(id).orElseThrow(() -> ApiException.notFound("no alarm with id " + id));
              Map<String, Object> body = AlarmJson.alarm(alarm);
              List<Map<String, Object>> history = new ArrayList<>();
              alarms.history(id).forEach(e -> history.add(AlarmJson.historyEntry(e)));
              body.put("history", history);
              return body;
            },
            false)
        .onSuccess(body -> Json.respond(ctx, 200, body))
        .onFailure(ctx::fail);
  }

  /** {@code POST /api/alarms/{id}/ack}. */
  public void acknowledge(RoutingContext ctx) {
    Principal officer = BearerAuthHandler.requireOfficer(ctx);
    long id = Params.alarmId(ctx.pathParam("id"));
    String note = note(ctx, false);
    vertx
        .executeBlocking(() -> alarms.acknowledge(id, officer.name(), note), false)
        .onSuccess(a -> Json.respond(ctx, 200, AlarmJson.alarm(a)))
        .onFailure(ctx::fail);
  }

  /** {@code POST /api/alarms/{id}/close}. */
  public void close(RoutingContext ctx) {
    Principal officer = BearerAuthHandler.requireOfficer(ctx);
    long id = Params.alarmId(ctx.pathParam("id"));
    String note = note(ctx, true);
    vertx
        .executeBlocking(() -> alarms.close(id, officer.name(), note), false)
        .onSuccess(a -> Json.respond(ctx, 200, AlarmJson.alarm(a)))
        .onFailure(ctx::fail);
  }

  private static String note(RoutingContext ctx, boolean required) {
    String text = ctx.body() == null ? null : ctx.body().asString();
    String note = null;
    if (text != null && !text.isBlank()) {
      JsonObject json;
      try {
        json = new JsonObject(text);
      } catch (DecodeException | ClassCastException e) {
        throw ApiException.badRequest(
            "bad_body", "the body must be a JSON object such as {\"note\": \"...\"}");
      }
      Object n = json.getValue("note");
      if (n != null && !(n instanceof String)) {
        throw ApiException.badRequest("bad_note", "note must be a string");
      }
      note = (String) n;
    }
    if (note != null && note.isBlank()) {
      note = null;
    }
    if (required && note == null) {
      throw ApiException.badRequest(
          "missing_note",
          "closing (write-off) needs a disposal note: {\"note\": \"what was found and done\"}");
    }
    if (note != null && note.length() > MAX_NOTE) {
      throw ApiException.badRequest(
          "note_too_long", "note has " + note.length() + " characters, at most " + MAX_NOTE);
    }
    return note == null ? null : note.strip().replace('\u0000', '\uFFFD');
  }
}
