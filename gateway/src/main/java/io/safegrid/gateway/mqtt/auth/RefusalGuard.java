package io.safegrid.gateway.mqtt.auth;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The refusal policy of device authentication (MQTT CONNECT, plain CoAP secret option): a guesser
 * is slowed, a device with the right secret is not.
 *
 * <p>A right secret is answered at once (the check is one HMAC, {@link
 * DeviceAuthenticator#check}). A wrong one (or an unknown device, or none: the same path) is
 * answered only after {@link #delayMillis()} on a timer, and while it waits it holds a <b>refusal
 * slot</b>: at most {@code perSourceSlots} per source address (IPv6: per /64) and {@code
 * totalSlots} in all. Since the right secret is answered at once, a guesser who gave up waiting
 * early would learn "wrong" all the same: so a slot is held for the whole delay, whatever the
 * client does: a source gets at most {@code perSourceSlots} such refusals per delay.
 *
 * <p>When the slots of the request's source (or all slots) are taken (<b>full</b>), a wrong secret
 * is answered at once as "server busy" (MQTT CONNACK 3 / 0x89, CoAP 5.03), which costs nothing and holds
 * nothing; and every refusal counts against the device id's <b>refusal budget</b>: {@code
 * budgetPerWindow} refusals per {@code windowMillis}. A device over its budget is, while full,
 * answered "busy" without its secret being checked at all, so beyond the slots a guesser gets at
 * most {@code budgetPerWindow} answers per device per window. Only the site's own device ids are
 * counted ({@code known}), so the counts stay bounded whatever user names a guesser sends; an
 * unknown id answered "busy" after its check looks the same as a known one answered "busy"
 * without one.
 *
 * <p>What a device sees: with the right secret it connects at once, unless its own id is under
 * attack from its own source address (a NAT shared with the guesser) or from enough addresses to
 * take all slots; then "server busy" while the slots stay taken and its budget spent (a device
 * retries on busy).
 *
 * <p>Thread-safe; nothing here blocks.
 */
public final class RefusalGuard {

  /** Default slots per source address: 4 guesses per {@link #DEFAULT_DELAY_MILLIS}. */
  public static final int DEFAULT_PER_SOURCE_SLOTS = 4;

  /**
   * Default slots in all: 64 guesses per {@link #DEFAULT_DELAY_MILLIS} over all sources, in the
   * order of what the former one PBKDF2 thread allowed (about 40 per second at 25 ms each).
   */
  public static final int DEFAULT_TOTAL_SLOTS = 64;

  /** Default refusal delay, ms: a wrong secret's answer comes 1 s after the CONNECT. */
  public static final long DEFAULT_DELAY_MILLIS = 1_000;

  /** Default refusal budget of a device id: 10 refusals per window. */
  public static final int DEFAULT_BUDGET = 10;

  /** Default budget window, ms (a minute). */
  public static final long DEFAULT_WINDOW_MILLIS = 60_000;

  private final int perSourceSlots;
  private final int totalSlots;
  private final long delayMillis;
  private final int budget;
  private final long windowMillis;
  private final LongSupplier clockMillis;
  private final Predicate<String> known;

  private final AtomicInteger taken = new AtomicInteger();
  private final Map<InetAddress, AtomicInteger> takenBySource = new ConcurrentHashMap<>();
  private final Map<String, Window> windows = new ConcurrentHashMap<>();

  /** Refusals of one device id in the window that began at {@code startMillis}. */
  private record Window(long startMillis, int refusals) {}

  /**
   * @param perSourceSlots refusals waiting at once per source address (IPv6: per /64), at least 1
   * @param totalSlots refusals waiting at once in all, at least {@code perSourceSlots}
   * @param delayMillis how long a refusal waits before its answer, ms, at least 0
   * @param budgetPerWindow refusals of one device id per window before it is answered busy
   *     unchecked while full, at least 1
   * @param windowMillis the budget window, ms, at least 1
   * @param clockMillis a monotonic clock, ms (e.g. {@code System.nanoTime() / 1_000_000})
   * @param known the site's device ids (only these are counted)
   * @throws IllegalArgumentException if a bound is out of range
   */
  public RefusalGuard(
      int perSourceSlots,
      int totalSlots,
      long delayMillis,
      int budgetPerWindow,
      long windowMillis,
      LongSupplier clockMillis,
      Predicate<String> known) {
    if (perSourceSlots < 1 || totalSlots < perSourceSlots || delayMillis < 0 || budgetPerWindow < 1
        || windowMillis < 1) {
      throw new IllegalArgumentException("refusal guard: need 1 <= perSourceSlots <= totalSlots, "
          + "delay >= 0 ms, budget >= 1, window >= 1 ms");
    }
    this.perSourceSlots = perSourceSlots;
    this.totalSlots = totalSlots;
    this.delayMillis = delayMillis;
    this.budget = budgetPerWindow;
    this.windowMillis = windowMillis;
    this.clockMillis = clockMillis;
    this.known = known;
  }

  /** The defaults above, for the devices {@code authenticator} knows. */
  public static RefusalGuard defaults(DeviceAuthenticator authenticator) {
    return defaults(authenticator::knows);
  }

  /** The defaults above, counting the device ids {@code known} accepts (the site's devices). */
  public static RefusalGuard defaults(Predicate<String> known) {
    return new RefusalGuard(DEFAULT_PER_SOURCE_SLOTS, DEFAULT_TOTAL_SLOTS, DEFAULT_DELAY_MILLIS,
        DEFAULT_BUDGET, DEFAULT_WINDOW_MILLIS, () -> System.nanoTime() / 1_000_000, known);
  }

  /** How long a refusal waits before its answer, ms. */
  public long delayMillis() {
    return delayMillis;
  }

  /**
   * Before the check: true if the request must be answered "busy" without checking its secret
   * (the source's or all slots are taken and {@code deviceId} is over its refusal budget).
   *
   * @param source the client's address; null counts as the loopback address
   * @param deviceId the presented device id; may be null
   */
  public boolean refuseUnchecked(InetAddress source, String deviceId) {
    return full(key(source)) && overBudget(deviceId);
  }

  /**
   * After a check that refused: counts the refusal against {@code deviceId}'s budget and takes a
   * slot if there is one.
   *
   * @return the refusal: {@link Refusal#slot()} null means "answer busy now"; otherwise answer
   *     after {@link #delayMillis()} and then close the slot
   */
  public Refusal refused(InetAddress source, String deviceId) {
    int n = count(deviceId);
    Slot slot = take(key(source));
    return new Refusal(slot, n == 1, n == budget);
  }

  /** Slots taken now, in all. */
  public int slotsTaken() {
    return taken.get();
  }

  /**
   * A counted refusal.
   *
   * @param slot the slot to hold until the delayed answer is sent, or null: answer "busy" now
   * @param firstInWindow true for a site device's first refusal in its window (to log once a
   *     window); false for later ones and for ids that are not the site's
   * @param budgetJustSpent true for the one refusal that used up the device's budget in this
   *     window (log it once)
   */
  public record Refusal(Slot slot, boolean firstInWindow, boolean budgetJustSpent) {}

  /** A taken refusal slot; {@link #close()} gives it back (once; later calls do nothing). */
  public final class Slot implements AutoCloseable {
    private final InetAddress key;
    private final AtomicBoolean open = new AtomicBoolean(true);

    private Slot(InetAddress key) {
      this.key = key;
    }

    @Override
    public void close() {
      if (open.compareAndSet(true, false)) {
        release(key);
      }
    }
  }

  private boolean full(InetAddress key) {
    if (taken.get() >= totalSlots) {
      return true;
    }
    AtomicInteger mine = takenBySource.get(key);
    return mine != null && mine.get() >= perSourceSlots;
  }

  private Slot take(InetAddress key) {
    if (taken.incrementAndGet() > totalSlots) {
      taken.decrementAndGet();
      return null;
    }
    boolean[] got = {false};
    takenBySource.compute(key, (k, n) -> {
      AtomicInteger c = n == null ? new AtomicInteger() : n;
      if (c.get() < perSourceSlots) {
        c.incrementAndGet();
        got[0] = true;
      }
      return c.get() == 0 ? null : c;
    });
    if (!got[0]) {
      taken.decrementAndGet();
      return null;
    }
    return new Slot(key);
  }

  private void release(InetAddress key) {
    takenBySource.computeIfPresent(key, (k, c) -> c.decrementAndGet() <= 0 ? null : c);
    taken.decrementAndGet();
  }

  /** Counts a refusal of {@code deviceId}; its count in the window, 0 if not counted. */
  private int count(String deviceId) {
    if (deviceId == null || !known.test(deviceId)) {
      return 0;
    }
    long now = clockMillis.getAsLong();
    Window w = windows.compute(deviceId, (id, old) ->
        old == null || now - old.startMillis() >= windowMillis
            ? new Window(now, 1)
            : new Window(old.startMillis(), old.refusals() + 1));
    return w.refusals();
  }

  private boolean overBudget(String deviceId) {
    if (deviceId == null) {
      return false;
    }
    Window w = windows.get(deviceId);
    return w != null && w.refusals() >= budget && clockMillis.getAsLong() - w.startMillis() < windowMillis;
  }

  private static final InetAddress NO_ADDRESS = InetAddress.getLoopbackAddress();

  /** The slot key of an address: IPv4 as is, IPv6 its /64 (one subscriber's prefix). */
  static InetAddress key(InetAddress source) {
    if (source == null) {
      return NO_ADDRESS;
    }
    if (source instanceof Inet6Address) {
      byte[] a = Arrays.copyOf(source.getAddress(), 16);
      Arrays.fill(a, 8, 16, (byte) 0);
      try {
        return InetAddress.getByAddress(a);
      } catch (UnknownHostException e) {
        throw new IllegalStateException("16 bytes are an IPv6 address", e);
      }
    }
    return source;
  }
}
