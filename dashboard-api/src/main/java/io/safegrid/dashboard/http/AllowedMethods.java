package io.safegrid.dashboard.http;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The last {@code /api/*} handler: a path no route took. When the path is an API resource that
 * other methods serve (e.g. {@code GET /api/alarms/7/ack}, which takes POST) the answer is 405 with
 * an {@code Allow} header listing them (RFC 9110 15.5.6); otherwise 404. The resources are read
 * from the router's own routes ({@link #addRoutes}: every exact path with methods), so a route
 * added later cannot be missing here; {@code :id} matches one path segment.
 */
public final class AllowedMethods implements Handler<RoutingContext> {
  private record Resource(Pattern path, HttpMethod method) {}

  private final List<Resource> resources = new ArrayList<>();

  /**
   * Records that {@code method} is served at {@code path}.
   *
   * @param path a route path such as {@code /api/alarms/:id/ack}
   * @return this
   */
  public AllowedMethods add(HttpMethod method, String path) {
    String regex =
        java.util.Arrays.stream(path.split("/", -1))
            .map(s -> s.startsWith(":") ? "[^/]+" : Pattern.quote(s))
            .collect(Collectors.joining("/"));
    resources.add(new Resource(Pattern.compile(regex), method));
    return this;
  }

  /**
   * Records every route of {@code routes} that has an exact path (with {@code :param} segments)
   * under {@code prefix} and one or more methods; catch-all routes ({@code /api/*}) and routes for
   * any method are skipped.
   *
   * @param routes {@code router.getRoutes()}, once all routes are bound
   * @param prefix e.g. {@code /api/}
   * @return this
   */
  public AllowedMethods addRoutes(List<io.vertx.ext.web.Route> routes, String prefix) {
    for (io.vertx.ext.web.Route r : routes) {
      String path = r.getPath();
      Set<HttpMethod> methods = r.methods();
      // a path with :params is matched by a pattern Vert.x makes from it (isRegexPath() is true
      // then too); a route made from a regex has no path and is skipped
      if (path == null || !path.startsWith(prefix) || !r.isExactPath() || methods == null || methods.isEmpty()) {
        continue;
      }
      for (HttpMethod m : methods) {
        add(m, path);
      }
    }
    return this;
  }

  /** The methods served at {@code path}, in the order added; empty for an unknown path. */
  public Set<HttpMethod> allowed(String path) {
    Set<HttpMethod> out = new LinkedHashSet<>();
    for (Resource r : resources) {
      if (r.path().matcher(path).matches()) {
        out.add(r.method());
      }
    }
    return out;
  }

  @Override
  public void handle(RoutingContext ctx) {
    Set<HttpMethod> allowed = allowed(ctx.normalizedPath());
    if (allowed.isEmpty()) {
      ctx.fail(404);
      return;
    }
    ctx.response()
        .putHeader("Allow", allowed.stream().map(HttpMethod::name).collect(Collectors.joining(", ")));
    ctx.fail(405);
  }
}
