package io.safegrid.gateway.coap;

import io.safegrid.gateway.mqtt.auth.RefusalGuard;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plain CoAP devices' last known good sources ({@link RefusalGuard}: the address a device last
 * posted from with its right secret, always checked) kept in a file across gateway restarts
 * (review8 R8-3: kept in memory only, no device had one after a start, and one host forging
 * datagrams with every device id kept every plain CoAP device out for as long as it went on,
 * a client that cannot repeat a request with an Echo option (RFC 9175) for good).
 *
 * <p>File: UTF-8 text, one line per device, {@code device-id TAB address} (IPv4 dotted, IPv6 its
 * /64 as a full address), lines starting with {@code #} ignored; a line that does not read is
 * skipped with a WARN (the device simply has none). Written whole to {@code file.tmp}, forced to
 * disk and renamed over the file (atomic), at most once per {@link #SAVE_DELAY_MILLIS} after a
 * change and at {@link #close()}. Size: one line (~40 bytes) per site device that ever posted
 * over plain CoAP (only the site's device ids reach it).
 *
 * <p>Thread-safe.
 */
final class LastGoodSources implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LastGoodSources.class);

  /** How long after a change the file is written, ms (changes meanwhile are written together). */
  static final long SAVE_DELAY_MILLIS = 1_000;

  private final Path file;
  private final ScheduledExecutorService timer;
  private final Map<String, InetAddress> sources = new ConcurrentHashMap<>();
  private final AtomicBoolean saveScheduled = new AtomicBoolean();

  /**
   * @param file where they are kept (its directory is created when first written)
   * @param timer runs the writes (one thread is enough)
   */
  LastGoodSources(Path file, ScheduledExecutorService timer) {
    this.file = file;
    this.timer = timer;
  }

  /**
   * Reads the file (none yet: nothing) and gives each device's source to {@code guards}
   * ({@link RefusalGuard#restoreLastGood}), then reports their later changes to this file.
   *
   * @return how many devices got their source back
   */
  int restoreInto(RefusalGuard reported, RefusalGuard... others) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      lines = List.of();
    } catch (IOException e) {
      log.warn("plain CoAP last known good sources not read from {} ({}): devices get theirs again at "
          + "their next right secret", file, e.toString());
      lines = List.of();
    }
    int restored = 0;
    for (String line : lines) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int tab = line.indexOf('\t');
      InetAddress source = tab > 0 ? address(line.substring(tab + 1).trim()) : null;
      if (source == null) {
        log.warn("{}: line not read, skipped: {}", file, line.length() > 120 ? line.substring(0, 120) + "..." : line);
        continue;
      }
      String deviceId = line.substring(0, tab);
      sources.put(deviceId, source);
      reported.restoreLastGood(source, deviceId);
      for (RefusalGuard g : others) {
        g.restoreLastGood(source, deviceId);
      }
      restored++;
    }
    reported.onLastGoodChanged(this::changed);
    return restored;
  }

  /** A device's new last known good source: written within {@link #SAVE_DELAY_MILLIS}. */
  void changed(String deviceId, InetAddress source) {
    if (source.equals(sources.put(deviceId, source))) {
      return;
    }
    if (saveScheduled.compareAndSet(false, true)) {
      try {
        timer.schedule(this::save, SAVE_DELAY_MILLIS, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) { // shutting down: close() writes it
      }
    }
  }

  /** Writes what is not written yet. */
  @Override
  public void close() {
    if (saveScheduled.get()) {
      save();
    }
  }

  private synchronized void save() {
    saveScheduled.set(false);
    StringBuilder text = new StringBuilder(
        "# SafeGrid: plain CoAP devices' last known good sources (docs/coap.md 'Guessing a secret')\n");
    new TreeMap<>(sources).forEach((id, a) -> text.append(id).append('\t').append(a.getHostAddress()).append('\n'));
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Path dir = file.toAbsolutePath().getParent();
      if (dir != null) {
        Files.createDirectories(dir);
      }
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        ch.write(StandardCharsets.UTF_8.encode(text.toString()));
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | UncheckedIOException e) {
      log.warn("plain CoAP last known good sources not written to {} ({}): kept in memory, tried again at the "
          + "next change", file, e.toString());
    }
  }

  /** An IP literal, or null (never a name lookup). */
  private static InetAddress address(String literal) {
    boolean v4 = literal.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    boolean v6 = literal.indexOf(':') >= 0 && literal.matches("[0-9A-Fa-f:.]+");
    if (!v4 && !v6) {
      return null;
    }
    try {
      return InetAddress.getByName(literal); // a literal: no lookup
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
