package io.safegrid.sim.load;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.safegrid.sim.link.CoapLink;
import io.safegrid.sim.link.DeviceLink;
import io.safegrid.sim.link.Transport;
import io.safegrid.sim.site.SimDevice;
import io.safegrid.sim.site.SiteFile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.eclipse.californium.core.network.Endpoint;

/**
 * {@code sim load}: N devices (MQTT 3.1.1 / MQTT 5 / CoAP by the mix) publish telemetry at a
 * target total rate for a duration, and it measures acknowledged messages per second, the
 * publish-to-acknowledgement latency (PUBACK, CoAP 2.04) and, with an API, publish-to-alarm
 * latency ({@link AlarmProbe}). Percentiles come from HdrHistogram (microsecond resolution,
 * reported in ms). Prints a progress line every second; writes a JSON summary.
 *
 * <p>Works against any MQTT broker (e.g. Mosquitto without authentication): the same command
 * gives the side-by-side figure.
 */
public final class LoadRunner {

  /** Most unacknowledged messages per device before a publish is skipped (back-pressure). */
  public static final int MAX_IN_FLIGHT_PER_DEVICE = 16;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final LoadOptions options;
  private final PrintStream out;
  private final Recorder ackRecorder = new Recorder(3600L * 1_000_000, 3);
  private final Recorder alarmRecorder = new Recorder(3600L * 1_000_000, 3);
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong acked = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();
  private final Map<Transport, AtomicLong> ackedBy = new LinkedHashMap<>();

  public LoadRunner(LoadOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
    for (Transport t : Transport.values()) {
      ackedBy.put(t, new AtomicLong());
    }
  }

  /** A device and its link. */
  private record Sim(SimDevice device, Transport transport, DeviceLink link, AtomicLong seq) {}

  /** Runs the load and returns the summary (also written to the summary file, if given). */
  public LoadSummary run() throws IOException, InterruptedException {
    List<SimDevice> pool = devicePool();
    SimDevice probeDevice = null;
    if (options.apiUrl() != null) {
      probeDevice = pool.stream().filter(d -> d.id().equals(options.probeDevice())).findFirst()
          .orElse(new SimDevice(options.probeDevice(), "gas_alarm", "demo-" + options.probeDevice(),
              options.probeDevice(), null, null, 60));
      final String probeId = probeDevice.id();
      pool = pool.stream().filter(d -> !d.id().equals(probeId)).toList();
    }
    if (pool.size() < options.devices()) {
      throw new IllegalArgumentException("the site has " + pool.size() + " devices, --devices asks for "
          + options.devices() + " (leave out --site for synthetic devices against a broker)");
    }
    List<Sim> sims = new ArrayList<>();
    List<Endpoint> coapEndpoints = new ArrayList<>();
    int[] mix = options.mix();
    int total = mix[0] + mix[1] + mix[2];
    for (int i = 0; i < options.devices(); i++) {
      SimDevice d = pool.get(i);
      int slot = i % total;
      Transport t = slot < mix[0] ? Transport.V3 : slot < mix[0] + mix[1] ? Transport.V5 : Transport.COAP;
      Endpoint shared = null;
      if (t == Transport.COAP && options.coapUri().startsWith("coap:")) {
        // one UDP socket per 32 plain CoAP devices keeps threads few and MIDs plenty
        int k = (int) sims.stream().filter(s -> s.transport() == Transport.COAP).count() / 32;
        while (coapEndpoints.size() <= k) {
          coapEndpoints.add(CoapLink.plainEndpoint());
        }
        shared = coapEndpoints.get(k);
      }
      sims.add(new Sim(d, t, t.open(options.mqttUri(), options.coapUri(), d, d.secret(), shared), new AtomicLong()));
    }

    out.printf("load: %d devices (v3:v5:coap %s), %.0f msg/s, QoS %d, %d s, %d-byte payloads, MQTT %s, CoAP %s%n",
        options.devices(), Arrays.toString(mix), options.ratePerS(), options.qos(), options.durationS(),
        options.payloadBytes(), options.mqttUri(), options.coapUri());
    int connected = connectAll(sims);
    out.printf("connected %d of %d devices%n", connected, sims.size());

    AlarmProbe probe = null;
    DeviceLink probeLink = null;
    if (probeDevice != null) {
      probeLink = options.probeTransport().open(options.mqttUri(), options.coapUri(), probeDevice, probeDevice.secret(), null);
      try {
        probeLink.connect().get(15, TimeUnit.SECONDS);
        probe = new AlarmProbe(options.apiUrl(), options.token(), probeDevice.id(), probeLink, alarmRecorder);
      } catch (Exception e) {
        out.printf("alarm probe %s could not connect (%s): no publish-to-alarm figure%n", probeDevice.id(), e);
      }
    }

    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "load-publisher");
      t.setDaemon(true);
      return t;
    });
    long periodNanos = (long) (options.devices() / options.ratePerS() * 1e9);
    for (Sim s : sims) {
      long initial = ThreadLocalRandom.current().nextLong(Math.max(1, periodNanos));
      scheduler.scheduleAtFixedRate(() -> tick(s), initial, periodNanos, TimeUnit.NANOSECONDS);
    }
    if (probe != null) {
      AlarmProbe p = probe;
      long interval = options.probeIntervalS() * 1000L;
      scheduler.scheduleAtFixedRate(p::cross, 2000, interval, TimeUnit.MILLISECONDS);
      scheduler.scheduleAtFixedRate(p::clear, 2000 + interval / 2, interval, TimeUnit.MILLISECONDS);
    }

    Histogram ackTotal = new Histogram(3600L * 1_000_000, 3);
    long start = System.nanoTime();
    long lastAcked = 0;
    for (int second = 1; second <= options.durationS(); second++) {
      long wake = start + TimeUnit.SECONDS.toNanos(second);
      TimeUnit.NANOSECONDS.sleep(Math.max(0, wake - System.nanoTime()));
      Histogram interval = ackRecorder.getIntervalHistogram();
      if (second > options.warmupS()) {
        ackTotal.add(interval);
      }
      long a = acked.get();
      out.printf(second <= options.warmupS() ? "[%4ds warm-up]" : "[%4ds] sent %d acked %d (%d/s) ack p50 %.2f ms p99 %.2f ms max %.2f ms refused %d failed %d skipped %d%s%n",
          second, sent.get(), a, a - lastAcked,
          interval.getValueAtPercentile(50) / 1000.0, interval.getValueAtPercentile(99) / 1000.0,
          interval.getMaxValue() / 1000.0, refused.get(), failed.get(), skipped.get(),
          probe == null ? "" : " probe alarms so far " + probe.samples());
      lastAcked = a;
    }
    scheduler.shutdownNow();
    double durationS = (System.nanoTime() - start) / 1e9;
    long sentAtEnd = sent.get();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.drainS());
    while (acked.get() + refused.get() + failed.get() < sentAtEnd && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    ackTotal.add(ackRecorder.getIntervalHistogram());
    // messages still unanswered after the drain count as failed
    long unanswered = sentAtEnd - acked.get() - refused.get() - failed.get();
    if (unanswered > 0) {
      failed.addAndGet(unanswered);
    }
    Histogram alarmTotal = alarmRecorder.getIntervalHistogram(); // every probe sample (seconds apart)
    if (probe != null) {
      if (!probe.streaming()) {
        out.printf("alarm probe: /api/live not reached (%s)%n", probe.lastError());
      }
      probe.close();
    }
    if (probeLink != null) {
      probeLink.close();
    }
    sims.parallelStream().forEach(s -> s.link().close());
    coapEndpoints.forEach(Endpoint::destroy);

    Map<String, Long> by = new LinkedHashMap<>();
    ackedBy.forEach((t, n) -> by.put(t.name().toLowerCase(), n.get()));
    LoadSummary summary = new LoadSummary(
        target(), connected, sentAtEnd, acked.get(), refused.get(), failed.get(), skipped.get(),
        Math.round(durationS * 1000) / 1000.0,
        Math.round(acked.get() / durationS * 10) / 10.0,
        Percentiles.of(ackTotal),
        probe == null ? null : Percentiles.of(alarmTotal),
        by);
    out.printf("acked %d of %d in %.1f s: %.1f msg/s; ack latency ms p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.2f%n",
        summary.acked(), summary.sent(), durationS, summary.ackedPerS(), summary.ackLatencyMs().p50(),
        summary.ackLatencyMs().p90(), summary.ackLatencyMs().p99(), summary.ackLatencyMs().p999(),
        summary.ackLatencyMs().max());
    if (summary.alarmLatencyMs() != null) {
      Percentiles p = summary.alarmLatencyMs();
      out.printf("publish-to-alarm ms (%d samples): p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f%n",
          p.count(), p.p50(), p.p90(), p.p99(), p.p999(), p.max());
    }
    if (options.summary() != null) {
      if (options.summary().toAbsolutePath().getParent() != null) {
        java.nio.file.Files.createDirectories(options.summary().toAbsolutePath().getParent());
      }
      JSON.writeValue(options.summary().toFile(), summary);
      out.println("summary written to " + options.summary());
    }
    return summary;
  }

  private Map<String, Object> target() {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("devices", options.devices());
    t.put("rate_per_s", options.ratePerS());
    t.put("qos", options.qos());
    t.put("duration_s", options.durationS());
    t.put("payload_bytes", options.payloadBytes());
    t.put("mix_v3_v5_coap", options.mix()[0] + ":" + options.mix()[1] + ":" + options.mix()[2]);
    t.put("mqtt", options.mqttUri());
    t.put("coap", options.coapUri());
    t.put("api", options.apiUrl());
    t.put("warmup_s", options.warmupS());
    return t;
  }

  private List<SimDevice> devicePool() throws IOException {
    if (options.site() != null) {
      List<SimDevice> site = new ArrayList<>(SiteFile.devices(options.site()));
      // gas alarms first: they are the bulk of a real site and the lightest reports
      site.sort((a, b) -> Boolean.compare(!a.type().equals("gas_alarm"), !b.type().equals("gas_alarm")));
      return site;
    }
    List<SimDevice> synthetic = new ArrayList<>();
    for (int i = 1; i <= options.devices(); i++) {
      String id = String.format("load-%05d", i);
      synthetic.add(new SimDevice(id, "gas_alarm", "demo-" + id, id, null, null, 60));
    }
    return synthetic;
  }

  private int connectAll(List<Sim> sims) throws InterruptedException {
    List<CompletableFuture<Void>> attempts = new ArrayList<>();
    for (int i = 0; i < sims.size(); i++) {
      attempts.add(sims.get(i).link().connect());
      if (i % 50 == 49) {
        Thread.sleep(20); // do not SYN-flood the broker
      }
    }
    int ok = 0;
    for (int i = 0; i < attempts.size(); i++) {
      try {
        attempts.get(i).get(30, TimeUnit.SECONDS);
        ok++;
      } catch (Exception e) {
        if (ok + 5 > i) {
          out.printf("  %s could not connect: %s%n", sims.get(i).device().id(), e.getCause() == null ? e : e.getCause());
        }
      }
    }
    return ok;
  }

  private void tick(Sim s) {
    DeviceLink link = s.link();
    if (!link.isConnected() || link.inFlight() >= MAX_IN_FLIGHT_PER_DEVICE) {
      skipped.incrementAndGet();
      return;
    }
    byte[] payload = payload(s.seq().incrementAndGet());
    long t0 = System.nanoTime();
    sent.incrementAndGet();
    link.publish("telemetry", payload, options.qos()).whenComplete((v, e) -> {
      if (e == null) {
        ackRecorder.recordValue(Math.max(0, (System.nanoTime() - t0) / 1000));
        acked.incrementAndGet();
        ackedBy.get(s.transport()).incrementAndGet();
      } else if (e instanceof DeviceLink.Refused || e.getCause() instanceof DeviceLink.Refused) {
        refused.incrementAndGet();
      } else {
        failed.incrementAndGet();
      }
    });
  }

  /** A telemetry record padded with a {@code "pad"} field to the requested size. */
  private byte[] payload(long seq) {
    double lel = Math.round(ThreadLocalRandom.current().nextDouble(0, 5) * 10) / 10.0;
    String bare = "{\"ts\":" + System.currentTimeMillis() + ",\"seq\":" + seq
        + ",\"values\":{\"gas_lel\":" + lel + "}";
    int padding = options.payloadBytes() - bare.length() - ",\"pad\":\"\"}".length();
    StringBuilder json = new StringBuilder(options.payloadBytes()).append(bare);
    if (padding > 0) {
      json.append(",\"pad\":\"").append("x".repeat(padding)).append('"');
    }
    return json.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }
}
