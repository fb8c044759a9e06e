package io.safegrid.alerting.routing;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** An immutable {@link GridDirectory} built in code (tests, and adapters over the site model). */
public final class StaticGridDirectory implements GridDirectory {
  private final Map<String, DevicePlace> places;
  private final Map<AlarmKind, List<RecipientGroup>> responders;
  private final List<RecipientGroup> reportUpward;
  private final List<RecipientGroup> fallbackChain;

  private StaticGridDirectory(Builder b) {
    this.places = Map.copyOf(b.places);
    Map<AlarmKind, List<RecipientGroup>> r = new EnumMap<>(AlarmKind.class);
    b.responders.forEach((k, v) -> r.put(k, List.copyOf(v)));
    this.responders = r;
    this.reportUpward = List.copyOf(b.reportUpward);
    if (b.fallbackChain.isEmpty()) {
      throw new IllegalArgumentException("the fallback chain (sub-district duty officer) is required");
    }
    this.fallbackChain = List.copyOf(b.fallbackChain);
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public Optional<DevicePlace> place(String deviceId) {
    return Optional.ofNullable(places.get(deviceId));
  }

  @Override
  public List<RecipientGroup> responders(AlarmKind kind) {
    return responders.getOrDefault(kind, List.of());
  }

  @Override
  public List<RecipientGroup> reportUpward() {
    return reportUpward;
  }

  @Override
  public List<RecipientGroup> fallbackChain() {
    return fallbackChain;
  }

  /** Builder of {@link StaticGridDirectory}. */
  public static final class Builder {
    private final Map<String, DevicePlace> places = new LinkedHashMap<>();
    private final Map<AlarmKind, List<RecipientGroup>> responders = new EnumMap<>(AlarmKind.class);
    private List<RecipientGroup> reportUpward = List.of();
    private List<RecipientGroup> fallbackChain = List.of();

    /** Adds (or replaces) a device's place. */
    public Builder device(DevicePlace place) {
      places.put(Objects.requireNonNull(place).deviceId(), place);
      return this;
    }

    /** Sets the responders of a kind. */
    public Builder responders(AlarmKind kind, List<RecipientGroup> groups) {
      responders.put(kind, List.copyOf(groups));
      return this;
    }

    /** Sets the report-upward recipients of critical alarms. */
    public Builder reportUpward(List<RecipientGroup> groups) {
      reportUpward = List.copyOf(groups);
      return this;
    }

    /** Sets the chain for unknown devices. */
    public Builder fallbackChain(List<RecipientGroup> groups) {
      fallbackChain = List.copyOf(groups);
      return this;
    }

    /**
     * @throws IllegalArgumentException when the fallback chain is empty
     */
    public StaticGridDirectory build() {
      return new StaticGridDirectory(this);
    }
  }
}
