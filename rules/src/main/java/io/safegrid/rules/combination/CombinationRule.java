package io.safegrid.rules.combination;

import io.safegrid.model.Severity;
import io.safegrid.rules.config.PlaceLevel;
import java.util.Objects;
import java.util.Set;

/**
 * Two alarms in one place within a window give a combined alarm: one of the rules in {@code
 * first} and one of the rules in {@code second}, on two different devices in the same {@code
 * scope} (e.g. building), one raised while the other is open (however long ago that one was
 * raised), or at most {@code windowMillis} before the other's raise or after its clear (by event
 * time). The combined alarm clears when no such pair is open any more (the window matters only for
 * raising). newcomer7 F6: the window used to be between the two raises only, so a gas leak under a
 * fire burning for more than 5 min raised no combined alarm. A late alarm raised at its own past
 * time (a cached backlog's reading) is open, for pairing, only at its late readings' times
 * (review8 R8-2; {@link CombinationDetector}).
 *
 * <p>Dongnan defaults (SafeGrid's choice, configurable under {@code combination}): two gas
 * alarms in one building within 5 min ({@code gas-combo-building}, CRITICAL); a panel fire and a
 * gas alarm in one compound within 5 min ({@code fire-gas-combo-compound}, CRITICAL).
 *
 * @param ruleId rule id of the combined alarm, e.g. {@code gas-combo-building}
 * @param scope the place level that groups devices
 * @param first rule ids of one side
 * @param second rule ids of the other side (may equal {@code first})
 * @param windowMillis largest time between one alarm's raise and the other's raise or clear, ms,
 *     > 0 (while the other is open it always pairs)
 * @param severity severity of the combined alarm
 * @param label human text, e.g. "two gas alarms in one building"
 */
public record CombinationRule(String ruleId, PlaceLevel scope, Set<String> first,
    Set<String> second, long windowMillis, Severity severity, String label) {

  /** @throws IllegalArgumentException when a side is empty or the window is not positive */
  public CombinationRule {
    Objects.requireNonNull(ruleId, "ruleId");
    Objects.requireNonNull(scope, "scope");
    Objects.requireNonNull(severity, "severity");
    first = Set.copyOf(first);
    second = Set.copyOf(second);
    if (first.isEmpty() || second.isEmpty() || windowMillis <= 0) {
      throw new IllegalArgumentException(ruleId + ": needs rules on both sides and a window > 0");
    }
    label = label == null ? ruleId : label;
  }

  /** Whether a rule id takes part in this combination. */
  public boolean involves(String contributingRuleId) {
    return first.contains(contributingRuleId) || second.contains(contributingRuleId);
  }
}
