package io.safegrid.dashboard.auth;

import io.safegrid.dashboard.http.ApiException;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Checks {@code Authorization: Bearer TOKEN} and puts the {@link Principal} into the routing
 * context ({@link #principal(RoutingContext)}). Fails with 401 without a known token.
 *
 * <p>The live stream ({@code GET /api/live}) may also pass the token as the query parameter
 * {@code access_token}, because a browser's EventSource cannot set headers. Only routes built with
 * {@link #allowingQueryToken(TokenTable)} accept it.
 */
public final class BearerAuthHandler implements Handler<RoutingContext> {
  private static final String KEY = "safegrid.principal";
  private final TokenTable tokens;
  private final boolean queryToken;

  private BearerAuthHandler(TokenTable tokens, boolean queryToken) {
    this.tokens = tokens;
    this.queryToken = queryToken;
  }

  /** Header only. */
  public static BearerAuthHandler create(TokenTable tokens) {
    return new BearerAuthHandler(tokens, false);
  }

  /** Header, or {@code ?access_token=} (for EventSource). */
  public static BearerAuthHandler allowingQueryToken(TokenTable tokens) {
    return new BearerAuthHandler(tokens, true);
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (ctx.get(KEY) != null) {
      ctx.next();
      return;
    }
    String token = null;
    String header = ctx.request().getHeader("Authorization");
    if (header != null) {
      if (header.regionMatches(true, 0, "Bearer ", 0, 7)) {
        token = header.substring(7).trim();
      } else {
        ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"safegrid\"");
        ctx.fail(
            new ApiException(
                401, "unauthorized", "the Authorization header must be 'Bearer TOKEN'"));
        return;
      }
    } else if (queryToken) {
      token = ctx.request().getParam("access_token");
    }
    if (token == null || token.isEmpty()) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"safegrid\"");
      ctx.fail(new ApiException(401, "unauthorized", "missing bearer token"));
      return;
    }
    var principal = tokens.lookup(token);
    if (principal.isEmpty()) {
      ctx.response()
          .putHeader("WWW-Authenticate", "Bearer realm=\"safegrid\", error=\"invalid_token\"");
      ctx.fail(new ApiException(401, "unauthorized", "unknown bearer token"));
      return;
    }
    ctx.put(KEY, principal.get());
    ctx.next();
  }

  /** The caller, set by this handler. */
  public static Principal principal(RoutingContext ctx) {
    return ctx.get(KEY);
  }

  /**
   * Fails the request with 403 unless the caller is a duty officer.
   *
   * @return the officer
   * @throws ApiException 403 for a viewer
   */
  public static Principal requireOfficer(RoutingContext ctx) {
    Principal p = principal(ctx);
    if (p == null || !p.mayAct()) {
      throw new ApiException(
          403, "forbidden", "role 'viewer' may not acknowledge or close alarms; an officer token is needed");
    }
    return p;
  }
}
