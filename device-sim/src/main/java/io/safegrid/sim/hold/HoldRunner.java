package io.safegrid.sim.hold;

import io.safegrid.sim.link.netty.NettyMqttClients;
import io.safegrid.sim.link.netty.NettyMqttLink;
import io.safegrid.sim.load.Connector;
import io.safegrid.sim.site.SimDevice;
import io.safegrid.sim.site.SiteFile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code sim hold}: connects N MQTT devices (Netty's MQTT codec, every connection on one shared
 * event loop group) and keeps them connected with keepalive (PINGREQ) for a while, publishing
 * nothing else: the load of a large idle fleet on a gateway's memory. Prints one machine-readable
 * line when every handshake is done:
 *
 * <pre>READY connected=N acked=M failed=F connect_s=S</pre>
 *
 * (acked: devices whose one QoS 1 reading got its PUBACK; failed: devices that did not connect),
 * then {@code HELD connected=K of N} when the hold ends, also when it is stopped by Ctrl-C (a
 * shutdown hook calls {@link #stopAndReport}), and disconnects everything.
 */
public final class HoldRunner {

  /** What holding gave. */
  public record Result(int devices, int connected, int acked, int failed, double connectS, int connectedAtEnd) {}

  private final HoldOptions options;
  private final PrintStream out;
  private volatile boolean stopped;
  /** The links once opened (read by a shutdown hook's {@link #stopAndReport}). */
  private volatile List<NettyMqttLink> links = List.of();
  private volatile int total;
  private final AtomicBoolean heldPrinted = new AtomicBoolean();
  private final CountDownLatch ended = new CountDownLatch(1);

  /** @param out where the READY / HELD lines and progress go */
  public HoldRunner(HoldOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  /** Ends the hold early. */
  public void stop() {
    stopped = true;
  }

  /**
   * For a shutdown hook (Ctrl-C = SIGINT, SIGTERM): ends the hold and makes sure the {@code HELD
   * connected=K of N} line is printed, once. The JVM does not wait for {@link #run} once the hooks
   * are done, so this waits up to {@code waitMillis} for it to print the line and disconnect; if it
   * has not (e.g. still connecting), the line is printed from here with the devices connected now.
   *
   * @param waitMillis how long to wait for {@link #run} to end, ms
   */
  public void stopAndReport(long waitMillis) {
    stopped = true;
    try {
      if (ended.await(waitMillis, TimeUnit.MILLISECONDS)) {
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    printHeld();
  }

  /** Prints {@code HELD connected=K of N} the first time only. */
  private int printHeld() {
    List<NettyMqttLink> now = links;
    int atEnd = connected(now);
    if (heldPrinted.compareAndSet(false, true)) {
      out.printf("HELD connected=%d of %d%n", atEnd, total);
      out.flush();
    }
    return atEnd;
  }

  /** Connects, holds, disconnects. */
  public Result run() throws IOException, InterruptedException {
    List<SimDevice> devices = devices();
    total = devices.size();
    try (NettyMqttClients netty = new NettyMqttClients(options.ioThreads(), options.keepAliveS(), 60_000,
        options.ioTransport())) {
      List<NettyMqttLink> links = new ArrayList<>();
      for (SimDevice d : devices) {
        links.add(netty.open(options.mqttUri(), d, d.secret(), options.version()));
      }
      this.links = links;
      out.printf("hold: %d devices (MQTT %s, keepalive %d s, %d at a time, %s transport) at %s%n", devices.size(),
          options.version() == io.netty.handler.codec.mqtt.MqttVersion.MQTT_5 ? "5" : "3.1.1",
          options.keepAliveS(), options.connectConcurrency(), netty.transport().label(), options.mqttUri());
      Connector.Result conn = Connector.connectAll(links, devices.stream().map(SimDevice::id).toList(),
          options.connectConcurrency(), options.connectBudgetS(), out);
      int acked = options.publishOnce() ? publishOnce(links) : 0;
      out.printf("READY connected=%d acked=%d failed=%d connect_s=%.1f%n", conn.connected(), acked, conn.failed(),
          conn.seconds());
      out.flush();
      // nothing connected: nothing to hold (with --hold-s 0 a script would wait forever)
      long end = conn.connected() == 0 ? 0
          : options.holdS() == 0 ? Long.MAX_VALUE : System.nanoTime() + TimeUnit.SECONDS.toNanos(options.holdS());
      long nextReport = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!stopped && System.nanoTime() < end) {
        Thread.sleep(200);
        if (System.nanoTime() >= nextReport) {
          out.printf("holding: %d connected%n", connected(links));
          nextReport += TimeUnit.SECONDS.toNanos(10);
        }
      }
      int atEnd = printHeld();
      links.parallelStream().forEach(NettyMqttLink::close);
      return new Result(devices.size(), conn.connected(), acked, conn.failed(), conn.seconds(), atEnd);
    } finally {
      ended.countDown();
    }
  }

  private static int connected(List<NettyMqttLink> links) {
    return (int) links.stream().filter(NettyMqttLink::isConnected).count();
  }

  private int publishOnce(List<NettyMqttLink> links) throws InterruptedException {
    AtomicInteger acked = new AtomicInteger();
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (NettyMqttLink link : links) {
      if (link.isConnected()) {
        byte[] payload = ("{\"ts\":" + System.currentTimeMillis() + ",\"seq\":1,\"values\":{\"gas_lel\":0.0}}")
            .getBytes(StandardCharsets.UTF_8);
        all.add(link.publish("telemetry", payload, 1).thenRun(acked::incrementAndGet));
      }
    }
    try {
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      out.printf("  not every first reading was acknowledged: %s%n", e.getCause() == null ? e : e.getCause());
    }
    return acked.get();
  }

  private List<SimDevice> devices() throws IOException {
    List<SimDevice> chosen = new ArrayList<>();
    if (options.site() == null) {
      for (int i = 1; i <= options.devices(); i++) {
        String id = String.format("hold-%05d", i);
        chosen.add(new SimDevice(id, "gas_alarm", "demo-" + id, id, null, null, 60));
      }
      return chosen;
    }
    for (SimDevice d : SiteFile.devices(options.site())) {
      if (d.id().startsWith(options.idPrefix()) && chosen.size() < options.devices()) {
        chosen.add(d);
      }
    }
    if (chosen.size() < options.devices()) {
      throw new IllegalArgumentException("the site has " + chosen.size() + " devices with ids starting '"
          + options.idPrefix() + "', --devices asks for " + options.devices());
    }
    return chosen;
  }
}
