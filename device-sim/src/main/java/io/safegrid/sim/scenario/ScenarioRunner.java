package io.safegrid.sim.scenario;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.safegrid.sim.link.DeviceLink;
import io.safegrid.sim.link.Transport;
import io.safegrid.sim.site.SimDevice;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.californium.core.network.Endpoint;

/**
 * Plays a {@link ScenarioSpec} with every device of the site: timed reports on each device's
 * report interval (compressed by the speed-up), the timeline's incidents and faults, reconnects
 * of dropped MQTT links. Runs on the calling thread until the scenario's duration has passed or
 * {@link #stop()} is called.
 */
public final class ScenarioRunner {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long TICK_MS = 20;
  private static final long MAX_STEP_MS = 100;

  private final ScenarioSpec spec;
  private final Signals signals;
  private final Map<String, DeviceState> devices = new LinkedHashMap<>();
  private final String mqttUri;
  private final String coapUri;
  private final PrintStream out;
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final java.util.concurrent.ExecutorService publisher =
      java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sim-publisher");
        t.setDaemon(true);
        return t;
      });
  private final java.util.concurrent.ExecutorService connector =
      java.util.concurrent.Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "sim-connector");
        t.setDaemon(true);
        return t;
      });
  private Endpoint sharedCoap;
  /** The simulated clock, seconds since the start (written by the clock thread only). */
  private volatile double simS;

  /** Messages sent, acknowledged, refused by the far end, failed (no answer, not connected). */
  public final AtomicLong sent = new AtomicLong();
  public final AtomicLong acked = new AtomicLong();
  public final AtomicLong refused = new AtomicLong();
  public final AtomicLong failed = new AtomicLong();

  /** What one device is doing now. */
  static final class DeviceState {
    final SimDevice device;
    final Transport transport;
    final Random rnd;
    DeviceLink link;
    final AtomicBoolean connecting = new AtomicBoolean();
    long seq;
    /** Successful connects (CONNACK; CoAP has no connection); more than one: it came back after a drop. */
    final AtomicInteger connects = new AtomicInteger();
    double nextDueS;
    double silentUntilS = -1;
    double duplicatesUntilS = -1;
    double skewUntilS = -1;
    long skewMs;
    boolean mainsFault;
    Ramp leak;
    Ramp flood;

    DeviceState(SimDevice device, Transport transport) {
      this.device = device;
      this.transport = transport;
      this.rnd = new Random(device.id().hashCode());
      this.nextDueS = rnd.nextDouble() * device.reportIntervalS(); // stagger the first reports
    }
  }

  /**
   * @param mqttUri broker or gateway, e.g. {@code tcp://127.0.0.1:1883}
   * @param coapUri gateway, {@code coap://127.0.0.1:5683} or {@code coaps://127.0.0.1:5684}
   * @param out where the progress and incident lines go
   */
  public ScenarioRunner(
      ScenarioSpec spec, List<SimDevice> site, String mqttUri, String coapUri, PrintStream out) {
    this.spec = spec;
    this.signals = new Signals(spec.signals(), spec.startTime());
    this.mqttUri = mqttUri;
    this.coapUri = coapUri;
    this.out = out;
    for (SimDevice d : site) {
      devices.put(d.id(), new DeviceState(d, spec.transports().getOrDefault(d.type(), Transport.V3)));
    }
    for (TimelineEntry e : spec.timeline()) {
      if (e.device() != null && !devices.containsKey(e.device())) {
        throw new IllegalArgumentException(
            "timeline entry at minute " + e.atMin() + " (" + e.action() + "): no device '"
                + e.device() + "' in the site file");
      }
    }
  }

  /** Stops {@link #run()} at its next tick. */
  public void stop() {
    stopped.set(true);
  }

  /** Simulated minutes played so far (the scenario's clock, which waits when the machine stalls). */
  public double simulatedMinutes() {
    return simS / 60;
  }

  /**
   * Times an MQTT device connected again after losing its link (the reconnect storm, or the far
   * end dropping it), over all devices: each device's successful connects after its first.
   */
  public long reconnects() {
    return devices.values().stream().mapToLong(d -> Math.max(0, d.connects.get() - 1)).sum();
  }

  /** Connects every device, plays the scenario, disconnects. */
  public void run() throws InterruptedException {
    out.printf("scenario %s: %d devices, speed x%.0f, %s simulated minutes, MQTT %s, CoAP %s%n",
        spec.name(), devices.size(), spec.speed(),
        spec.durationMin() > 0 ? String.format("%.0f", spec.durationMin()) : "unbounded",
        mqttUri, coapUri);
    List<CompletableFuture<Void>> connects = new ArrayList<>();
    for (DeviceState d : devices.values()) {
      d.link = open(d, d.device.secret());
      connects.add(connect(d));
    }
    try {
      // the site is up before the clock starts; stragglers connect on their next report
      CompletableFuture.allOf(connects.toArray(CompletableFuture[]::new)).get(15, TimeUnit.SECONDS);
    } catch (Exception e) {
      out.println("  not every device connected at the start: " + e.getMessage());
    }
    long last = System.nanoTime();
    long lastStatus = last;
    double simS = 0;
    this.simS = 0;
    int nextEntry = 0;
    List<TimelineEntry> timeline = spec.timeline();
    try {
      while (!stopped.get()) {
        long tickStart = System.nanoTime();
        // the simulated clock never skips: after a stall (GC, a slow machine) it advances at most
        // MAX_STEP_MS of real time, so every report and timeline entry still happens, a bit late
        simS += Math.min(tickStart - last, TimeUnit.MILLISECONDS.toNanos(MAX_STEP_MS)) / 1e9 * spec.speed();
        last = tickStart;
        this.simS = simS;
        if (spec.durationMin() > 0 && simS >= spec.durationMin() * 60) {
          break;
        }
        while (nextEntry < timeline.size() && timeline.get(nextEntry).atMin() * 60 <= simS) {
          fire(timeline.get(nextEntry++), simS);
        }
        for (DeviceState d : devices.values()) {
          if (simS >= d.nextDueS) {
            d.nextDueS += d.device.reportIntervalS();
            report(d, simS);
          }
        }
        if (System.nanoTime() - lastStatus >= TimeUnit.SECONDS.toNanos(10)) {
          lastStatus = System.nanoTime();
          status(simS);
        }
        long tookMs = (System.nanoTime() - tickStart) / 1_000_000;
        if (tookMs > 250) {
          out.printf("  (a tick took %d ms at +%.0f min: the simulated clock waited)%n", tookMs, simS / 60);
        }
        Thread.sleep(TICK_MS);
      }
    } finally {
      publisher.shutdown();
      publisher.awaitTermination(30, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (acked.get() + refused.get() + failed.get() < sent.get() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      long unanswered = sent.get() - acked.get() - refused.get() - failed.get();
      if (unanswered > 0) {
        failed.addAndGet(unanswered); // lost in a dropped connection, never answered
      }
      status(simS);
      connector.shutdownNow();
      devices.values().parallelStream().forEach(d -> d.link.close());
      if (sharedCoap != null) {
        sharedCoap.destroy();
      }
    }
  }

  private void status(double simS) {
    out.printf("[sim %s +%.0f min] sent=%d acked=%d refused=%d failed=%d%n",
        signals.timeOfDay(simS).withNano(0), simS / 60, sent.get(), acked.get(), refused.get(), failed.get());
  }

  private DeviceLink open(DeviceState d, String secret) {
    if (d.transport == Transport.COAP && coapUri.startsWith("coap:") && sharedCoap == null) {
      sharedCoap = io.safegrid.sim.link.CoapLink.plainEndpoint();
    }
    return d.transport.open(mqttUri, coapUri, d.device, secret, sharedCoap);
  }

  private CompletableFuture<Void> connect(DeviceState d) {
    if (!d.connecting.compareAndSet(false, true)) {
      return CompletableFuture.completedFuture(null);
    }
    // on the connector threads: a Paho connect waits for a disconnect in progress, and the clock
    // thread must never wait
    return CompletableFuture.supplyAsync(() -> d.link.connect(), connector)
        .thenCompose(f -> f)
        .whenComplete((v, e) -> {
      d.connecting.set(false);
      if (e == null) {
        d.connects.incrementAndGet();
      } else {
        out.printf("  %s: connect failed: %s%n", d.device.id(), e.getMessage());
      }
    }).exceptionally(e -> null);
  }

  // ------------------------------------------------------------------ timed reports

  private void report(DeviceState d, double simS) {
    if (simS < d.silentUntilS) {
      return;
    }
    ObjectNode record = record(d, simS, System.currentTimeMillis());
    byte[] payload = bytes(record);
    publish(d, "telemetry", payload);
    if (simS < d.duplicatesUntilS) {
      publish(d, "telemetry", payload); // the same seq and ts again
    }
  }

  private ObjectNode record(DeviceState d, double simS, long wallMs) {
    ObjectNode record = JSON.createObjectNode();
    record.put("ts", wallMs + (simS < d.skewUntilS ? d.skewMs : 0));
    record.put("seq", ++d.seq);
    ObjectNode values = record.putObject("values");
    switch (d.device.type()) {
      case "gas_alarm" -> values.put("gas_lel", signals.gasLel(d.device, simS, d.rnd, d.leak));
      case "river_gauge" -> values.put("water_level_m", signals.riverLevelM(d.device, simS, d.rnd, d.flood));
      case "fire_panel" -> {
        values.put("mains_v", signals.mainsV(d.rnd, d.mainsFault));
        values.put("backup_v", signals.backupV(d.rnd));
      }
      default -> values.put("heartbeat", 1);
    }
    return record;
  }

  /**
   * Hands a message to the device's link on the publisher thread (in order, so a device's
   * messages keep their order): the clock thread never waits for a client library.
   */
  private void publish(DeviceState d, String channel, byte[] payload) {
    sent.incrementAndGet();
    publisher.execute(() -> {
      // Paho's isConnected() waits while a connect or disconnect of that client is under way:
      // asked here, never on the clock thread
      if (!d.link.isConnected()) {
        failed.incrementAndGet();
        connect(d); // the device retries with its next message
        return;
      }
      CompletableFuture<Void> f;
      try {
        f = d.link.publish(channel, payload, spec.qos());
      } catch (RuntimeException e) {
        f = CompletableFuture.failedFuture(e);
      }
      f.whenComplete((v, e) -> {
        if (e == null) {
          acked.incrementAndGet();
        } else if (e instanceof DeviceLink.Refused || e.getCause() instanceof DeviceLink.Refused) {
          refused.incrementAndGet();
        } else {
          failed.incrementAndGet();
        }
      });
    });
  }

  // ------------------------------------------------------------------ the timeline

  private void fire(TimelineEntry e, double simS) {
    DeviceState d = e.device() == null ? null : devices.get(e.device());
    if (e.action().equals("reconnect_storm")) {
      status(simS); // the counts before it: what fails after it is the storm's (sent while reconnecting)
    }
    out.printf("[sim %s +%.0f min] %s%s%n", signals.timeOfDay(simS).withNano(0), simS / 60,
        e.action(), d == null ? "" : " " + d.device.id() + " (" + d.device.name() + ")");
    long now = System.currentTimeMillis();
    switch (e.action()) {
      case "leak" -> d.leak = new Ramp(simS, e.num("peak_lel", 62), e.num("ramp_min", 12) * 60,
          e.num("hold_min", 5) * 60, e.num("fall_min", 6) * 60);
      case "flood" -> d.flood = new Ramp(simS, e.num("rise_m", 2.0), e.num("rise_min", 40) * 60,
          e.num("hold_min", 15) * 60, e.num("fall_min", 30) * 60);
      case "fire" -> event(d, now, "fire", e);
      case "reset" -> event(d, now, "reset", e);
      case "mains_fault" -> {
        d.mainsFault = true;
        event(d, now, "mains_fault", e);
      }
      case "mains_restored" -> {
        d.mainsFault = false;
        event(d, now, "mains_restored", e);
      }
      case "silence" -> d.silentUntilS = simS + e.num("for_min", 15) * 60;
      case "duplicates" -> d.duplicatesUntilS = simS + e.num("for_min", 5) * 60;
      case "clock_skew" -> {
        d.skewMs = (long) (e.num("skew_min", -90) * 60_000);
        d.skewUntilS = simS + e.num("for_min", 10) * 60;
      }
      case "backlog_burst" -> backlog(d, simS, (int) e.num("records", 120));
      case "out_of_order" -> outOfOrder(d, simS, (int) e.num("records", 10));
      case "garbage" -> garbage(d, (int) e.num("count", 3));
      case "wrong_secret" -> wrongSecret(d);
      case "reconnect_storm" -> reconnectStorm();
      default -> throw new IllegalStateException(e.action());
    }
  }

  private void event(DeviceState d, long now, String name, TimelineEntry e) {
    ObjectNode event = JSON.createObjectNode();
    event.put("ts", now);
    event.put("event", name);
    if (e.params().has("zone")) {
      event.put("zone", (int) e.num("zone", 0));
    }
    if (e.params().has("point")) {
      event.put("point", (int) e.num("point", 0));
    }
    if (e.params().has("text")) {
      event.put("text", e.text("text", ""));
    }
    publish(d, "events", bytes(event));
  }

  /** Records cached during an outage, sent at once as one array (oldest first). */
  private void backlog(DeviceState d, double simS, int records) {
    ArrayNode array = JSON.createArrayNode();
    long now = System.currentTimeMillis();
    for (int i = records; i >= 1; i--) {
      array.add(record(d, simS, now - i * d.device.reportIntervalS() * 1000L));
    }
    publish(d, "telemetry", bytes(array));
  }

  /** Records sent newest first, one message each. */
  private void outOfOrder(DeviceState d, double simS, int records) {
    long now = System.currentTimeMillis();
    List<ObjectNode> batch = new ArrayList<>();
    for (int i = records; i >= 1; i--) {
      batch.add(record(d, simS, now - i * 1000L));
    }
    for (int i = batch.size() - 1; i >= 0; i--) {
      publish(d, "telemetry", bytes(batch.get(i)));
    }
  }

  private void garbage(DeviceState d, int count) {
    String[] junk = {
      "{\"values\": {\"gas_lel\": 12.5",
      "not json at all",
      "{\"values\": {\"gas_lel\": \"high\"}}",
      "\u0000\u0001\u0002binary",
    };
    for (int i = 0; i < count; i++) {
      publish(d, "telemetry", junk[i % junk.length].getBytes(StandardCharsets.UTF_8));
    }
  }

  /** A second link with a wrong secret: the gateway must refuse it (CONNACK not authorized, CoAP 4.01). */
  private void wrongSecret(DeviceState d) {
    DeviceLink impostor = open(d, "wrong-" + d.device.secret());
    CompletableFuture<Void> attempt = d.transport == Transport.COAP
        ? impostor.publish("telemetry", bytes(record(d, 0, System.currentTimeMillis())), 1)
        : impostor.connect();
    // closed on a connector thread: on Paho's callback thread (where the attempt completes) its
    // disconnect is refused (32107) and close(true) then refuses a connected client, which left an
    // accepted impostor connected, holding the device's client id
    attempt.whenCompleteAsync((v, e) -> {
      out.printf("  %s with a wrong secret: %s%n", d.device.id(),
          e == null ? "ACCEPTED (the far end does not check secrets)" : "refused (" + e.getMessage() + ")");
      impostor.close();
    }, connector);
  }

  /** Every MQTT device loses its link at once and reconnects at once. */
  private void reconnectStorm() {
    List<DeviceState> mqtt = devices.values().stream().filter(d -> d.transport != Transport.COAP).toList();
    // off the clock thread: dropping a Paho link blocks briefly
    CompletableFuture.runAsync(() -> {
      mqtt.parallelStream().forEach(d -> d.link.drop());
      mqtt.forEach(this::connect);
    }, connector);
  }

  private static byte[] bytes(Object node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** For tests: the current state of a device's leak overlay. */
  Ramp leakOf(String deviceId) {
    return devices.get(deviceId).leak;
  }
}
