package io.safegrid.gateway.mqtt.auth;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The refusal policy of device authentication (MQTT CONNECT, plain CoAP secret option): a guesser
 * is slowed, a device with the right secret is not, and a stranger cannot make a device's right
 * secret be refused.
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
 * is answered at once as "server busy" (MQTT CONNACK 3 / 0x89, CoAP 5.03), which costs nothing and
 * holds nothing; that answer, unlike the delayed one, would tell a right secret from a wrong one at
 * any rate, so every refusal counts against a <b>refusal budget</b> of {@code budgetPerWindow}
 * refusals per {@code windowMillis}, and a request over its budget is, while full, answered "busy"
 * without its secret being checked. The budget is kept per (device id, <b>source prefix</b>: IPv4
 * /24, IPv6 /64), not per device id (review7 R1: 16 addresses anywhere spent a device's one budget
 * and locked it out, right secret and all): a guesser spends only its own prefix's budget, and a
 * device elsewhere is still checked. Beyond slots, a guesser gets at most {@code budgetPerWindow}
 * answers per device, window and prefix it sends from, and with the bound on prefixes below at
 * most about ({@link #PREFIXES_PER_DEVICE} + 2) x {@code budgetPerWindow} per device and window
 * however many prefixes it has (170 + 10 a minute with the defaults).
 *
 * <p><b>Last known good source</b>: the source (IPv4 address, IPv6 /64) a device last
 * authenticated from ({@link #accepted}) has a budget of its own, spent only by refusals from that
 * same source; a guesser elsewhere in its /24 does not touch it. Where sources can be forged
 * (plain CoAP over UDP: {@code sourcesForgeable}), a request from the last known good source is
 * always checked: anyone could spend its budget with forged datagrams, and a guesser who receives
 * the answers there shares the device's path, where the secret travels in clear anyway. Kept in
 * memory; plain CoAP keeps it across restarts too ({@link #restoreLastGood}, {@link
 * #onLastGoodChanged}: review8 R8-3, after a start no device had one and forged datagrams could
 * keep every plain CoAP device out).
 *
 * <p>Memory: only the site's own device ids are counted ({@code known}), each with at most {@link
 * #PREFIXES_PER_DEVICE} live prefix budgets; refusals from further prefixes while those are live
 * share one "other prefixes" budget of the device. An unknown id answered "busy" after its check
 * looks the same as a known one answered "busy" without one.
 *
 * <p>What a device sees: with the right secret it connects at once under any flood of wrong
 * secrets from other prefixes. "Server busy" unchecked only while the slots stay taken and either
 * (a) a guesser shares its own source (a NAT: MQTT only; never on plain CoAP) and spent that
 * source's budget, or (b) it sends from a source other than its last known good one, and guessers
 * in that /24 (/64), or, with more than {@link #PREFIXES_PER_DEVICE} prefixes guessing its id, in
 * any prefix, spent the budget it falls in; on plain CoAP a sender forging datagrams from that
 * prefix can do (b), so there the CoAP resource answers such a request with an Echo challenge
 * instead of "busy" and checks a repeat that proves its address against a guard of its own
 * ({@code io.safegrid.gateway.coap.EchoChallenge}). A device retries on busy.
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

  /** Default refusal budget of a (device id, source prefix): 10 refusals per window. */
  public static final int DEFAULT_BUDGET = 10;

  /** Default budget window, ms (a minute). */
  public static final long DEFAULT_WINDOW_MILLIS = 60_000;

  /**
   * Live prefix budgets kept per device id (beyond them, one shared "other prefixes" budget): bounds
   * the memory at about 18 small records per site device whatever the number of guessing prefixes.
   */
  public static final int PREFIXES_PER_DEVICE = 16;

  private final int perSourceSlots;
  private final int totalSlots;
  private final long delayMillis;
  private final int budget;
  private final long windowMillis;
  private final LongSupplier clockMillis;
  private final Predicate<String> known;
  private final boolean sourcesForgeable;

  private final AtomicInteger taken = new AtomicInteger();
  private final Map<InetAddress, AtomicInteger> takenBySource = new ConcurrentHashMap<>();
  private final Map<String, Budgets> budgets = new ConcurrentHashMap<>();
  private volatile BiConsumer<String, InetAddress> lastGoodChanged = (id, source) -> {};

  /** Refusals in the window that began at {@code startMillis}. */
  private record Window(long startMillis, int refusals) {}

  /**
   * @param perSourceSlots refusals waiting at once per source address (IPv6: per /64), at least 1
   * @param totalSlots refusals waiting at once in all, at least {@code perSourceSlots}
   * @param delayMillis how long a refusal waits before its answer, ms, at least 0
   * @param budgetPerWindow refusals of one device id from one source prefix per window before its
   *     requests from there are answered busy unchecked while full, at least 1
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
    this(perSourceSlots, totalSlots, delayMillis, budgetPerWindow, windowMillis, clockMillis, known, false);
  }

  /**
   * As above.
   *
   * @param sourcesForgeable true where a request's source address can be forged (plain CoAP over
   *     UDP): a device's last known good source is then never answered busy unchecked (see the
   *     class comment); false for TCP (MQTT), where a source address is proven by the handshake
   */
  public RefusalGuard(
      int perSourceSlots,
      int totalSlots,
      long delayMillis,
      int budgetPerWindow,
      long windowMillis,
      LongSupplier clockMillis,
      Predicate<String> known,
      boolean sourcesForgeable) {
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
    this.sourcesForgeable = sourcesForgeable;
  }

  /** The defaults above, for the devices {@code authenticator} knows (MQTT over TCP). */
  public static RefusalGuard defaults(DeviceAuthenticator authenticator) {
    return defaults(authenticator::knows);
  }

  /** The defaults above, counting the device ids {@code known} accepts (the site's devices), over TCP. */
  public static RefusalGuard defaults(Predicate<String> known) {
    return new RefusalGuard(DEFAULT_PER_SOURCE_SLOTS, DEFAULT_TOTAL_SLOTS, DEFAULT_DELAY_MILLIS,
        DEFAULT_BUDGET, DEFAULT_WINDOW_MILLIS, () -> System.nanoTime() / 1_000_000, known, false);
  }

  /**
   * The defaults above for datagrams whose source can be forged (plain CoAP): a device's last
   * known good source is always checked.
   */
  public static RefusalGuard defaultsForDatagrams(Predicate<String> known) {
    return new RefusalGuard(DEFAULT_PER_SOURCE_SLOTS, DEFAULT_TOTAL_SLOTS, DEFAULT_DELAY_MILLIS,
        DEFAULT_BUDGET, DEFAULT_WINDOW_MILLIS, () -> System.nanoTime() / 1_000_000, known, true);
  }

  /** How long a refusal waits before its answer, ms. */
  public long delayMillis() {
    return delayMillis;
  }

  /**
   * Before the check: true if the request must be answered "busy" without checking its secret
   * (the source's or all slots are taken, and the budget of ({@code deviceId}, the source's prefix
   * or last known good source) is spent).
   *
   * @param source the client's address; null counts as the loopback address
   * @param deviceId the presented device id; may be null
   */
  public boolean refuseUnchecked(InetAddress source, String deviceId) {
    if (deviceId == null || !full(key(source))) {
      return false;
    }
    Budgets b = budgets.get(deviceId);
    return b != null && b.overBudget(source);
  }

  /**
   * After a check that accepted the secret: {@code source} becomes {@code deviceId}'s last known
   * good source (a budget of its own; never refused unchecked where sources can be forged).
   *
   * @param source the client's address; null counts as the loopback address
   * @param deviceId the authenticated device id
   */
  public void accepted(InetAddress source, String deviceId) {
    if (deviceId == null || !known.test(deviceId)) {
      return;
    }
    InetAddress k = key(source);
    if (budgets.computeIfAbsent(deviceId, id -> new Budgets()).accepted(k)) {
      lastGoodChanged.accept(deviceId, k);
    }
  }

  /**
   * At a start: {@code source} is {@code deviceId}'s last known good source as kept by an earlier
   * process (plain CoAP: {@code io.safegrid.gateway.coap.LastGoodSources}), unless it has one
   * already; not reported to {@link #onLastGoodChanged}. Ignored for ids {@code known} rejects.
   *
   * @param source the address (IPv6: its /64 is kept)
   * @param deviceId a site device id
   */
  public void restoreLastGood(InetAddress source, String deviceId) {
    if (deviceId == null || source == null || !known.test(deviceId)) {
      return;
    }
    budgets.computeIfAbsent(deviceId, id -> new Budgets()).restore(key(source));
  }

  /**
   * Tells {@code listener} (device id, source key: IPv4 address or IPv6 /64) each time a device's
   * last known good source changes ({@link #accepted} from another source), on the caller's
   * thread: it must not block. One listener; a later call replaces it.
   */
  public void onLastGoodChanged(BiConsumer<String, InetAddress> listener) {
    this.lastGoodChanged = listener == null ? (id, source) -> {} : listener;
  }

  /**
   * After a check that refused: counts the refusal against the budget of ({@code deviceId}, the
   * source's prefix or last known good source) and takes a slot if there is one.
   *
   * @return the refusal: {@link Refusal#slot()} null means "answer busy now"; otherwise answer
   *     after {@link #delayMillis()} and then close the slot
   */
  public Refusal refused(InetAddress source, String deviceId) {
    int n = count(source, deviceId);
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
   * @param firstInWindow true for the first refusal of a site device from this prefix in its
   *     window (to log once a window); false for later ones and for ids that are not the site's
   * @param budgetJustSpent true for the one refusal that used up the budget in this window (log it
   *     once)
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

  /**
   * The refusal budgets of one site device: its last known good source's, one per live source
   * prefix (at most {@link #PREFIXES_PER_DEVICE}), and one shared by the further prefixes.
   * Guarded by its own monitor.
   */
  private final class Budgets {
    private InetAddress lastGood;
    private Window lastGoodWindow;
    private final Map<InetAddress, Window> byPrefix = new HashMap<>();
    private Window others;

    /** True if {@code sourceKey} is a new last known good source. */
    synchronized boolean accepted(InetAddress sourceKey) {
      if (!sourceKey.equals(lastGood)) {
        lastGood = sourceKey;
        lastGoodWindow = null;
        return true;
      }
      return false;
    }

    synchronized void restore(InetAddress sourceKey) {
      if (lastGood == null) {
        lastGood = sourceKey;
      }
    }

    synchronized int count(InetAddress source, long now) {
      InetAddress k = key(source);
      if (k.equals(lastGood)) {
        lastGoodWindow = next(lastGoodWindow, now);
        return lastGoodWindow.refusals();
      }
      InetAddress p = prefix(source);
      if (byPrefix.containsKey(p) || room(now)) {
        Window w = next(byPrefix.get(p), now);
        byPrefix.put(p, w);
        return w.refusals();
      }
      others = next(others, now);
      return others.refusals();
    }

    synchronized boolean overBudget(InetAddress source) {
      long now = clockMillis.getAsLong();
      InetAddress k = key(source);
      if (k.equals(lastGood)) {
        return !sourcesForgeable && spent(lastGoodWindow, now);
      }
      Window w = byPrefix.get(prefix(source));
      if (w != null) {
        return spent(w, now);
      }
      return !room(now) && spent(others, now);
    }

    /** True if a new prefix gets a budget of its own (drops expired ones to make room). */
    private boolean room(long now) {
      if (byPrefix.size() < PREFIXES_PER_DEVICE) {
        return true;
      }
      byPrefix.values().removeIf(w -> now - w.startMillis() >= windowMillis);
      return byPrefix.size() < PREFIXES_PER_DEVICE;
    }
  }

  private Window next(Window old, long now) {
    return old == null || now - old.startMillis() >= windowMillis
        ? new Window(now, 1)
        : new Window(old.startMillis(), old.refusals() + 1);
  }

  private boolean spent(Window w, long now) {
    return w != null && w.refusals() >= budget && now - w.startMillis() < windowMillis;
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

  /** Counts a refusal of {@code deviceId} from {@code source}; its budget's count, 0 if not counted. */
  private int count(InetAddress source, String deviceId) {
    if (deviceId == null || !known.test(deviceId)) {
      return 0;
    }
    return budgets.computeIfAbsent(deviceId, id -> new Budgets()).count(source, clockMillis.getAsLong());
  }

  private static final InetAddress NO_ADDRESS = InetAddress.getLoopbackAddress();

  /** The slot key of an address: IPv4 as is, IPv6 its /64 (one subscriber's prefix). */
  static InetAddress key(InetAddress source) {
    return masked(source, 8);
  }

  /** The budget prefix of an address: IPv4 its /24, IPv6 its /64. */
  static InetAddress prefix(InetAddress source) {
    return masked(source, source instanceof Inet6Address ? 8 : 3);
  }

  /** {@code source} with all but its first {@code keep} bytes zeroed (IPv4 kept whole when keep > 4). */
  private static InetAddress masked(InetAddress source, int keep) {
    if (source == null) {
      source = NO_ADDRESS;
    }
    byte[] a = source.getAddress();
    if (keep >= a.length) {
      return source;
    }
    Arrays.fill(a, keep, a.length, (byte) 0);
    try {
      return InetAddress.getByAddress(a);
    } catch (UnknownHostException e) {
      throw new IllegalStateException("4 or 16 bytes are an IP address", e);
    }
  }
}
