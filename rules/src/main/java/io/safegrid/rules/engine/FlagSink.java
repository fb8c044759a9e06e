package io.safegrid.rules.engine;

/**
 * Receives {@link Flag}s. Called from shard threads of a {@link ShardedRuleEngine}: must be
 * thread-safe and quick.
 */
@FunctionalInterface
public interface FlagSink {

  /** One flag; never null. */
  void accept(Flag flag);

  /** A sink that drops flags (they are still counted in {@link EngineStats}). */
  static FlagSink ignore() {
    return f -> {};
  }
}
