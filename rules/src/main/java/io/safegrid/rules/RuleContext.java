package io.safegrid.rules;

import io.safegrid.model.AlarmTransition;

/**
 * What a rule may ask of the engine that runs it: emit a transition, or be called back at a
 * deadline (epoch milliseconds on the engine's clock). Implemented by the engine; single-threaded.
 */
public interface RuleContext {

  /** Emits a transition to the engine's sink (and its combination detector). */
  void emit(AlarmTransition transition);

  /**
   * Asks for {@link Confirmable#confirm(long, long, RuleContext)} to be called once the engine's clock
   * reaches {@code atMillis}.
   */
  void callBackAt(long atMillis, Confirmable target, long token);

  /**
   * Tells that an open alarm raised by a late reading at its own past time (a cached backlog,
   * evidence {@code late: true}) is held by a newer judged reading at {@code atMillis} (rule
   * clock, epoch ms): it is now an alarm of the present, for the combination detector (review8
   * R8-2). No transition: the ledger's alarm is unchanged. The default does nothing.
   */
  default void held(String deviceId, String ruleId, long atMillis) {}

  /** A rule state that confirms a pending (debounced) change when its time has come. */
  interface Confirmable {
    /**
     * Called once the clock reached the time asked for.
     *
     * @param token the token given to {@link #callBackAt}; a stale token means "ignore"
     * @param nowMillis the engine's clock now
     */
    void confirm(long token, long nowMillis, RuleContext context);
  }
}
