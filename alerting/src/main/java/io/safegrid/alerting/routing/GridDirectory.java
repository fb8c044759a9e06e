package io.safegrid.alerting.routing;

import java.util.List;
import java.util.Optional;

/**
 * Who is responsible for what, from the site model (config/dongnan.yaml): the alerting module's
 * only view of the site. Implementations: {@link StaticGridDirectory} (built in code, also the
 * base of the site-model adapter).
 */
public interface GridDirectory {

  /** The device's place and grid chain; empty for a device the site does not know. */
  Optional<DevicePlace> place(String deviceId);

  /**
   * Responders notified at once besides the grid: gas -> gas company and market supervision, fire
   * -> fire brigade, water -> flood command and the militia emergency rescue teams.
   */
  List<RecipientGroup> responders(AlarmKind kind);

  /**
   * Copied at once on a critical alarm (report upward, 向上抄告): the sub-district duty leader and
   * the district emergency management bureau.
   */
  List<RecipientGroup> reportUpward();

  /**
   * The chain for alarms of devices the site does not know (including SafeGrid's own pseudo-device
   * {@code safegrid-gateway}): at least the sub-district duty officer. Never empty.
   */
  List<RecipientGroup> fallbackChain();
}
