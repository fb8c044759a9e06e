package io.safegrid.rules;

import io.safegrid.model.AlarmTransition;

/**
 * Receives the alarm transitions the rule engine decides. With a {@link
 * io.safegrid.rules.engine.ShardedRuleEngine} it is called from several shard threads at once, so
 * it must be thread-safe; it should be quick (hand the transition to the alarm ledger's queue).
 */
@FunctionalInterface
public interface TransitionSink {

  /** One transition; never null. */
  void accept(AlarmTransition transition);
}
