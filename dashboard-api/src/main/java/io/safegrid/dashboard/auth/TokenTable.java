package io.safegrid.dashboard.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The bearer tokens the dashboard accepts (from the gateway config): token -> {@link Principal}.
 * Immutable. Lookups compare in constant time per entry so a token cannot be guessed byte by byte
 * from response times.
 */
public final class TokenTable {
  private final Map<String, Principal> byToken;

  /**
   * @param byToken token -> principal; tokens must be at least 8 characters
   * @throws IllegalArgumentException for a token shorter than 8 characters
   */
  public TokenTable(Map<String, Principal> byToken) {
    for (String t : byToken.keySet()) {
      if (t == null || t.length() < 8) {
        throw new IllegalArgumentException("a bearer token must have at least 8 characters");
      }
    }
    this.byToken = Map.copyOf(byToken);
  }

  /** A table builder, e.g. {@code TokenTable.builder().officer("t0k3n-abc", "duty-zhang")}. */
  public static Builder builder() {
    return new Builder();
  }

  /** The principal of this token, or empty for an unknown or null token. */
  public Optional<Principal> lookup(String token) {
    if (token == null || token.isEmpty()) {
      return Optional.empty();
    }
    byte[] given = token.getBytes(StandardCharsets.UTF_8);
    Principal found = null;
    for (Map.Entry<String, Principal> e : byToken.entrySet()) {
      if (MessageDigest.isEqual(given, e.getKey().getBytes(StandardCharsets.UTF_8))) {
        found = e.getValue();
      }
    }
    return Optional.ofNullable(found);
  }

  /** How many tokens. */
  public int size() {
    return byToken.size();
  }

  /** Collects tokens. */
  public static final class Builder {
    private final Map<String, Principal> map = new LinkedHashMap<>();

    /** Adds a token of a duty officer (may acknowledge and close). */
    public Builder officer(String token, String name) {
      return add(token, name, Role.OFFICER);
    }

    /** Adds a read-only token. */
    public Builder viewer(String token, String name) {
      return add(token, name, Role.VIEWER);
    }

    /** Adds a token. */
    public Builder add(String token, String name, Role role) {
      map.put(token, new Principal(name, role));
      return this;
    }

    public TokenTable build() {
      return new TokenTable(map);
    }
  }
}
