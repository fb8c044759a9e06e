package io.safegrid.rules.engine;

/**
 * Counters of an engine since it started (sums over shards). Suggested Micrometer names: {@code
 * safegrid.rules.readings} with tag {@code outcome}, {@code safegrid.rules.transitions}.
 *
 * @param evaluated readings and events evaluated as newest state
 * @param late readings and events older than the newest state (checked for raises only)
 * @param duplicates readings at the same time as the newest state
 * @param flagged flags given: readings and events flagged (future, seconds as millis; not
 *     evaluated), readings judged on arrival (clock behind; also in {@code evaluated}) and late
 *     readings past a setpoint (also in {@code late})
 * @param unknown readings and events of unknown devices
 * @param transitions alarm transitions emitted (combined ones not included)
 * @param devices devices with state
 * @param errors tasks that threw (a shard keeps running)
 */
public record EngineStats(long evaluated, long late, long duplicates, long flagged, long unknown,
    long transitions, long devices, long errors) {

  /** The sum of two. */
  public EngineStats plus(EngineStats o) {
    return new EngineStats(evaluated + o.evaluated, late + o.late, duplicates + o.duplicates,
        flagged + o.flagged, unknown + o.unknown, transitions + o.transitions,
        devices + o.devices, errors + o.errors);
  }
}
