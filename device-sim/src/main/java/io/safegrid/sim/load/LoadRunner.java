package io.safegrid.sim.load;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.safegrid.sim.link.CoapLink;
import io.safegrid.sim.link.DeviceLink;
import io.safegrid.sim.link.MqttClientKind;
import io.safegrid.sim.link.Transport;
import io.safegrid.sim.link.netty.NettyMqttClients;
import io.safegrid.sim.link.netty.NettyMqttLink;
import io.safegrid.sim.link.netty.SocketTransport;
import io.safegrid.sim.site.SimDevice;
import io.safegrid.sim.site.SiteFile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * <p>MQTT devices run on Netty's MQTT codec by default: every connection on one shared event
 * loop group ({@code --io-threads}), and a {@link Pacer} per event loop issues the due publishes
 * every 1-10 ms ({@link #tickMicros}), round-robin over that loop's devices, on the loop's own
 * thread. Paho
 * ({@code --mqtt-client paho}) and CoAP devices are paced by one pacer thread.
 *
 * <p>Works against any MQTT broker (e.g. Mosquitto without authentication): the same command
 * gives the side-by-side figure.
 */
public final class LoadRunner {

  /** Default most unacknowledged messages per device (see {@code --max-in-flight}). */
  public static final int MAX_IN_FLIGHT_PER_DEVICE = 16;

  /**
   * Pacer tick, µs: about {@link #PUBLISHES_PER_TICK} publishes a tick, between 1 and 10 ms. Each
   * tick wakes the event loop, and a wake-up costs tens of µs of CPU on a virtual machine: 1 ms
   * ticks at 50 msg/s would cost more than the messages.
   */
  static long tickMicros(double ratePerS) {
    return Math.max(1_000, Math.min(10_000, (long) (PUBLISHES_PER_TICK * 1e6 / ratePerS)));
  }

  /** Publishes a pacer tick aims at (see {@link #tickMicros}). */
  static final int PUBLISHES_PER_TICK = 10;

  /** Most a late pacer tick catches up, ms of the rate; beyond it publishes are skipped (late). */
  static final long MAX_CATCH_UP_MS = 100;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final LoadOptions options;
  private final PrintStream out;
  private final Recorder ackRecorder = new Recorder(3600L * 1_000_000, 3);
  private final Recorder alarmRecorder = new Recorder(3600L * 1_000_000, 3);
  private final Recorder annunciationRecorder = new Recorder(3600L * 1_000_000, 3);
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong acked = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final Map<Transport, AtomicLong> ackedBy = new LinkedHashMap<>();
  private final AtomicLong coapFailed = new AtomicLong();
  private final List<Pacer<Sim>> pacers = new ArrayList<>();
  private final String pad;

  /** @param out where progress lines and the figures go */
  public LoadRunner(LoadOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
    for (Transport t : Transport.values()) {
      ackedBy.put(t, new AtomicLong());
    }
    this.pad = "x".repeat(Math.max(0, options.payloadBytes()));
  }

  /**
   * A device and its link; {@code lastTs} is the {@code ts} of its last reading (ms): each is
   * later than the one before, so that no two of a device's messages (a burst is sent within a
   * millisecond) are one duplicate reading to the gateway, which stores (device, metric, time) once.
   */
  private record Sim(SimDevice device, Transport transport, DeviceLink link, AtomicLong seq, AtomicLong lastTs) {}

  /** Runs the load and returns the summary (also written to the summary file, if given). */
  public LoadSummary run() throws IOException, InterruptedException {
    List<SimDevice> pool = devicePool();
    List<SimDevice> probeDevices = List.of();
    if (options.apiUrl() != null) {
      probeDevices = probeDevices(pool);
      Set<String> probeIds = new HashSet<>();
      probeDevices.forEach(d -> probeIds.add(d.id()));
      pool = pool.stream().filter(d -> !probeIds.contains(d.id())).toList();
    }
    if (pool.size() < options.devices()) {
      throw new IllegalArgumentException("the site has " + pool.size() + " devices, --devices asks for "
          + options.devices() + " (leave out --site for synthetic devices against a broker)");
    }
    NettyMqttClients netty = options.mqttClient() == MqttClientKind.NETTY
        ? new NettyMqttClients(options.ioThreads(), options.keepAliveS(), 30_000, options.ioTransport()) : null;
    List<Sim> sims = new ArrayList<>();
    List<Endpoint> coapEndpoints = new ArrayList<>();
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1, r -> {
      Thread t = new Thread(r, "load-pacer");
      t.setDaemon(true);
      return t;
    });
    AlarmProbe probe = null;
    NettyMqttClients probeNetty = null;
    EventLoopGroup probeSse = null; // the probe's /api/live loop when its devices are not on Netty
    EventLoop probeLoop = null;
    List<DeviceLink> probeLinks = new ArrayList<>();
    try {
      int[] mix = options.mix();
      int total = mix[0] + mix[1] + mix[2];
      int coapCount = 0;
      for (int i = 0; i < options.devices(); i++) {
        SimDevice d = pool.get(i);
        int slot = i % total;
        Transport t = slot < mix[0] ? Transport.V3 : slot < mix[0] + mix[1] ? Transport.V5 : Transport.COAP;
        Endpoint shared = null;
        if (t == Transport.COAP && options.coapUri().startsWith("coap:")) {
          // one UDP socket per 32 plain CoAP devices keeps threads few and MIDs plenty
          int k = coapCount++ / 32;
          while (coapEndpoints.size() <= k) {
            coapEndpoints.add(CoapLink.plainEndpoint());
          }
          shared = coapEndpoints.get(k);
        }
        sims.add(new Sim(d, t, t.open(options.mqttUri(), options.coapUri(), d, d.secret(), shared, netty),
            new AtomicLong(), new AtomicLong()));
      }

      out.printf("load: %d devices (v3:v5:coap %s, MQTT client %s%s%s), %.0f msg/s, QoS %d, %d s, %d-byte payloads, "
              + "at most %d in flight per device, bursts of %d, MQTT %s, CoAP %s%n",
          options.devices(), Arrays.toString(mix), options.mqttClient().name().toLowerCase(),
          netty == null ? "" : ", " + options.ioThreads() + " event loop threads",
          netty == null ? "" : ", " + netty.transport().label() + " transport",
          options.ratePerS(), options.qos(), options.durationS(), options.payloadBytes(), options.maxInFlight(),
          options.burst(), options.mqttUri(), options.coapUri());
      Connector.Result conn = Connector.connectAll(sims.stream().map(Sim::link).toList(),
          sims.stream().map(s -> s.device().id()).toList(), options.connectConcurrency(), 300, out);
      out.printf("connected %d of %d devices in %.1f s%n", conn.connected(), sims.size(), conn.seconds());
      // Settle the heap before anything is timed: the connections' state (about 10 MB for 1,000
      // devices) would otherwise be copied by the first young collections under the load, which
      // stop every thread of this JVM, the probe's included (55-67 ms each with the serial
      // collector the launcher gives the simulator), and count as the far end's latency.
      System.gc();

      if (!probeDevices.isEmpty()) {
        // the probes get an event loop of their own (a real device does not queue behind 1,000
        // others): their crossings are published, and their alarm events read, on that thread
        probeNetty = netty == null ? null : new NettyMqttClients(1, options.keepAliveS(), 30_000, options.ioTransport());
        Map<String, DeviceLink> links = new LinkedHashMap<>();
        for (SimDevice d : probeDevices) {
          DeviceLink link = options.probeTransport().open(options.mqttUri(), options.coapUri(), d, d.secret(), null,
              probeNetty);
          probeLinks.add(link);
          try {
            link.connect().get(30, TimeUnit.SECONDS);
            links.put(d.id(), link);
          } catch (Exception e) {
            out.printf("alarm probe %s could not connect (%s): left out%n", d.id(), e.getCause() == null ? e : e.getCause());
          }
        }
        if (links.isEmpty()) {
          out.println("no alarm probe connected: no publish-to-alarm figure");
        } else {
          if (probeNetty != null) {
            probeLoop = probeNetty.eventLoops().get(0);
          } else {
            probeSse = options.ioTransport().newGroup(1, "alarm-probe-sse");
            probeLoop = (EventLoop) probeSse.next();
          }
          probe = new AlarmProbe(options.apiUrl(), options.token(), links, alarmRecorder, annunciationRecorder,
              probeLoop);
          if (options.probeSamples() != null) {
            probe.samplesTo(options.probeSamples());
          }
          if (options.probeAnnunciationSamples() != null) {
            probe.annunciationSamplesTo(options.probeAnnunciationSamples());
          }
          out.printf("alarm probe: %d devices (%s%s), each crossing 25 %%LEL every %d ms: %.1f crossings/s%n",
              links.size(), String.join(", ", links.keySet().stream().limit(3).toList()),
              links.size() > 3 ? ", ..." : "", options.probeIntervalMs(),
              links.size() * 1000.0 / options.probeIntervalMs());
        }
      }

      return measure(sims, probeNetty != null ? probeLoop : scheduler, scheduler, probe, conn.connected(),
          netty != null ? netty.transport() : null);
    } finally {
      for (Pacer<Sim> p : pacers) {
        p.stop();
      }
      scheduler.shutdownNow();
      if (probe != null) {
        probe.close();
      }
      probeLinks.forEach(DeviceLink::close);
      sims.parallelStream().forEach(s -> s.link().close());
      coapEndpoints.forEach(Endpoint::destroy);
      if (probeNetty != null) {
        probeNetty.close();
      }
      if (probeSse != null) {
        probeSse.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      }
      if (netty != null) {
        netty.close();
      }
    }
  }

  private LoadSummary measure(List<Sim> sims, ScheduledExecutorService probeScheduler,
      ScheduledExecutorService scheduler, AlarmProbe probe, int connected, SocketTransport transport)
      throws IOException, InterruptedException {
    startPacers(sims, scheduler);
    if (probe != null) {
      // crossing from 2 s on, timed after the warm-up: the first crossings carry the path's first
      // uses (class loading, compilation), as the load's untimed warm-up PUBACKs do
      probe.start(probeScheduler, 2000, options.probeIntervalMs(), options.warmupS() * 1000L);
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
      out.printf(second <= options.warmupS() ? "[%4ds warm-up]%n" : "[%4ds] sent %d acked %d (%d/s) ack p50 %.2f ms p99 %.2f ms max %.2f ms refused %d failed %d%s skipped %d%s%n",
          second, sent.get(), a, a - lastAcked,
          interval.getValueAtPercentile(50) / 1000.0, interval.getValueAtPercentile(99) / 1000.0,
          interval.getMaxValue() / 1000.0, refused.get(), failed.get(),
          options.mix()[2] > 0 ? " (coap " + coapFailed.get() + ")" : "", skippedBusy() + skippedLate(),
          probe == null ? "" : " probe alarms " + probe.samples() + " of " + probe.crossings()
              + " annunciations " + probe.annunciationSamples());
      lastAcked = a;
    }
    for (Pacer<Sim> p : pacers) {
      p.stopAndWait();
    }
    if (probe != null) {
      probe.stop();
    }
    double durationS = (System.nanoTime() - start) / 1e9;
    long sentAtEnd = sent.get();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.drainS());
    while (acked.get() + refused.get() + failed.get() < sentAtEnd && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    if (probe != null) {
      // the last crossings' alarms may still be on their way
      long probeDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.min(5, options.drainS()));
      while (probe.samples() < probe.crossings() && System.nanoTime() < probeDeadline) {
        Thread.sleep(50);
      }
    }
    ackTotal.add(ackRecorder.getIntervalHistogram());
    // messages still unanswered after the drain count as failed
    long unanswered = sentAtEnd - acked.get() - refused.get() - failed.get();
    if (unanswered > 0) {
      failed.addAndGet(unanswered);
    }
    Histogram alarmTotal = alarmRecorder.getIntervalHistogram(); // every probe sample
    Histogram annunciationTotal = annunciationRecorder.getIntervalHistogram();
    if (probe != null && !probe.streaming()) {
      out.printf("alarm probe: /api/live not reached (%s)%n", probe.lastError());
    }

    Map<String, Long> by = new LinkedHashMap<>();
    ackedBy.forEach((t, n) -> by.put(t.name().toLowerCase(), n.get()));
    LoadSummary summary = new LoadSummary(
        target(transport), connected, sentAtEnd, acked.get(), refused.get(), failed.get(),
        skippedBusy() + skippedLate(), skippedBusy(), skippedLate(),
        Math.round(durationS * 1000) / 1000.0,
        Math.round(acked.get() / durationS * 10) / 10.0,
        Percentiles.of(ackTotal),
        probe == null ? null : Percentiles.of(alarmTotal),
        probe == null ? null : Percentiles.of(annunciationTotal),
        probe == null ? null : new LoadSummary.Probe(probe.deviceIds(), options.probeIntervalMs(),
            probe.crossings(), probe.samples(), probe.unmatched(), probe.annunciationSamples(),
            probe.annunciationUnmatched()),
        by, simulatorCpuS());
    out.printf("acked %d of %d in %.1f s: %.1f msg/s; refused %d, failed %d; skipped %d (busy %d, late %d); "
            + "ack latency ms p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.2f%n",
        summary.acked(), summary.sent(), durationS, summary.ackedPerS(), summary.refused(),
        summary.failed(), summary.skipped(),
        summary.skippedBusy(), summary.skippedLate(), summary.ackLatencyMs().p50(),
        summary.ackLatencyMs().p90(), summary.ackLatencyMs().p99(), summary.ackLatencyMs().p999(),
        summary.ackLatencyMs().max());
    if (summary.alarmLatencyMs() != null && summary.alarmLatencyMs().count() == 0) {
      out.printf("publish-to-alarm: no samples (%d crossings, %d probe devices): no alarm event of a"
              + " probe device arrived on /api/live%n",
          summary.probe().crossings(), summary.probe().devices().size());
    } else if (summary.alarmLatencyMs() != null) {
      Percentiles p = summary.alarmLatencyMs();
      out.printf("publish-to-alarm ms (%d samples of %d crossings, %d probe devices): "
              + "p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f%n",
          p.count(), summary.probe().crossings(), summary.probe().devices().size(),
          p.p50(), p.p90(), p.p99(), p.p999(), p.max());
    }
    if (summary.annunciationLatencyMs() != null) {
      out.println(annunciationLine(summary.annunciationLatencyMs(), summary.probe()));
    }
    if (summary.simulatorCpuS() >= 0) {
      out.printf("Simulator CPU: %.1f s (this JVM, user + system, from its start to the end of the run; %s transport)%n",
          summary.simulatorCpuS(), transport == null ? "no Netty" : transport.label());
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

  /**
   * The publish-to-annunciation line of the figures: {@code publish-to-annunciation ms (N samples
   * of C crossings, U unmatched): p50 .. p90 .. p99 .. p99.9 .. max ..}, or, with no sample (a
   * gateway that sends no {@code event: annunciation}), a line saying so.
   */
  static String annunciationLine(Percentiles p, LoadSummary.Probe probe) {
    if (p.count() == 0) {
      return String.format("publish-to-annunciation: no samples (%d crossings, %d unmatched): no event: annunciation"
          + " of a probe device arrived on /api/live (a gateway without annunciations)",
          probe.crossings(), probe.annunciationUnmatched());
    }
    return String.format("publish-to-annunciation ms (%d samples of %d crossings, %d unmatched): "
            + "p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f",
        p.count(), probe.crossings(), probe.annunciationUnmatched(), p.p50(), p.p90(), p.p99(), p.p999(), p.max());
  }

  /** A pacer per Netty event loop for the links on it; one pacer thread for the others. */
  private void startPacers(List<Sim> sims, ScheduledExecutorService scheduler) {
    Map<EventLoop, List<Sim>> byLoop = new LinkedHashMap<>();
    List<Sim> others = new ArrayList<>();
    for (Sim s : sims) {
      EventLoop loop = s.link() instanceof NettyMqttLink n ? n.eventLoop() : null;
      if (loop != null) {
        byLoop.computeIfAbsent(loop, k -> new ArrayList<>()).add(s);
      } else {
        others.add(s);
      }
    }
    int maxInFlight = options.maxInFlight();
    double perDevice = options.ratePerS() / sims.size();
    int burst = options.burst();
    byLoop.forEach((loop, list) -> pacers.add(new Pacer<>(list, s -> ready(s, maxInFlight), this::publish,
        perDevice * list.size(), MAX_CATCH_UP_MS, burst).start(loop, tickMicros(perDevice * list.size()))));
    if (!others.isEmpty()) {
      pacers.add(new Pacer<>(others, s -> ready(s, maxInFlight), this::publish, perDevice * others.size(),
          MAX_CATCH_UP_MS, burst).start(scheduler, tickMicros(perDevice * others.size())));
    }
  }

  private static boolean ready(Sim s, int maxInFlight) {
    DeviceLink link = s.link();
    return link.inFlight() < maxInFlight && link.isConnected();
  }

  private long skippedBusy() {
    return pacers.stream().mapToLong(Pacer::skippedBusy).sum();
  }

  private long skippedLate() {
    return pacers.stream().mapToLong(Pacer::skippedLate).sum();
  }

  /**
   * CPU seconds this JVM used so far, user + system, every thread (the OS's account of the
   * process, {@link ProcessHandle.Info#totalCpuDuration()}; on Linux {@code /proc/self/stat}'s
   * utime + stime, which bench/run reads from outside); -1 where the OS does not tell.
   */
  static double simulatorCpuS() {
    return ProcessHandle.current().info().totalCpuDuration().map(d -> Math.round(d.toMillis() / 100.0) / 10.0)
        .orElse(-1.0);
  }

  private Map<String, Object> target(SocketTransport transport) {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("devices", options.devices());
    t.put("rate_per_s", options.ratePerS());
    t.put("qos", options.qos());
    t.put("duration_s", options.durationS());
    t.put("payload_bytes", options.payloadBytes());
    t.put("mix_v3_v5_coap", options.mix()[0] + ":" + options.mix()[1] + ":" + options.mix()[2]);
    t.put("mqtt_client", options.mqttClient().name().toLowerCase());
    t.put("io_threads", options.mqttClient() == MqttClientKind.NETTY ? options.ioThreads() : null);
    t.put("io_transport", transport == null ? null : transport.label());
    t.put("max_in_flight", options.maxInFlight());
    t.put("burst", options.burst());
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

  /**
   * The probe devices: those named, else the last {@code probeDevices} gas alarms of the site
   * (synthetic {@code probe-001}.. without a site), so that they are not among the load's first N.
   */
  private List<SimDevice> probeDevices(List<SimDevice> pool) {
    List<SimDevice> chosen = new ArrayList<>();
    if (!options.probeIds().isEmpty()) {
      for (String id : options.probeIds()) {
        chosen.add(pool.stream().filter(d -> d.id().equals(id)).findFirst()
            .orElse(new SimDevice(id, "gas_alarm", "demo-" + id, id, null, null, 60)));
      }
      return chosen;
    }
    if (options.site() == null) {
      for (int i = 1; i <= options.probeDevices(); i++) {
        String id = String.format("probe-%03d", i);
        chosen.add(new SimDevice(id, "gas_alarm", "demo-" + id, id, null, null, 60));
      }
      return chosen;
    }
    for (int i = pool.size() - 1; i >= 0 && chosen.size() < options.probeDevices(); i--) {
      if (pool.get(i).type().equals("gas_alarm")) {
        chosen.add(pool.get(i));
      }
    }
    if (chosen.size() < options.probeDevices()) {
      throw new IllegalArgumentException("the site has " + chosen.size() + " gas alarms, --probe-devices asks for "
          + options.probeDevices());
    }
    return chosen;
  }

  /** Publishes one telemetry message on a device (the pacer's thread). */
  private void publish(Sim s) {
    long ts = s.lastTs().updateAndGet(last -> Math.max(System.currentTimeMillis(), last + 1));
    byte[] payload = payload(s.seq().incrementAndGet(), ts);
    long t0 = System.nanoTime();
    sent.incrementAndGet();
    CompletableFuture<Void> answered = s.link().publish("telemetry", payload, options.qos());
    if (s.transport() == Transport.COAP) {
      // UDP has no connection to lose: a CoAP device whose gateway is gone only stops getting
      // answers, and Californium gives a CON up after about 93 s (RFC 7252 4.8.2). Unanswered
      // after the drain time it counts as failed now, as it would at the end of the run.
      answered.orTimeout(coapNoAnswerSeconds(options.drainS()), TimeUnit.SECONDS);
    }
    answered.whenComplete((v, e) -> {
      if (e == null) {
        ackRecorder.recordValue(Math.max(0, (System.nanoTime() - t0) / 1000));
        acked.incrementAndGet();
        ackedBy.get(s.transport()).incrementAndGet();
      } else if (e instanceof DeviceLink.Refused || e.getCause() instanceof DeviceLink.Refused) {
        refused.incrementAndGet();
      } else {
        failed.incrementAndGet();
        if (s.transport() == Transport.COAP) {
          coapFailed.incrementAndGet();
        }
      }
    });
  }

  /**
   * Seconds after which an unanswered CoAP message counts as failed: the drain time ({@code
   * --drain}, at least 1 s), the same wait after which any message still unanswered at the end of
   * the run counts as failed.
   */
  static long coapNoAnswerSeconds(int drainS) {
    return Math.max(1, drainS);
  }

  /** A telemetry record (time {@code ts}, ms) padded with a {@code "pad"} field to the requested size. */
  private byte[] payload(long seq, long ts) {
    double lel = ThreadLocalRandom.current().nextInt(50) / 10.0;
    StringBuilder json = new StringBuilder(Math.max(64, options.payloadBytes()))
        .append("{\"ts\":").append(ts).append(",\"seq\":").append(seq)
        .append(",\"values\":{\"gas_lel\":").append(lel).append('}');
    int padding = options.payloadBytes() - json.length() - ",\"pad\":\"\"}".length();
    if (padding > 0) {
      json.append(",\"pad\":\"").append(pad, 0, padding).append('"');
    }
    return json.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }
}
