package io.safegrid.sim;

import io.safegrid.sim.load.LoadOptions;
import io.safegrid.sim.load.LoadRunner;
import io.safegrid.sim.scenario.ScenarioRunner;
import io.safegrid.sim.scenario.ScenarioSpec;
import io.safegrid.sim.scenario.TimelineEntry;
import io.safegrid.sim.site.SiteFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The device simulator's command line ({@code bin/safegrid sim ...}):
 *
 * <pre>
 * scenario NAME [--speed X] [--mqtt tcp://127.0.0.1:1883] [--coap coap://127.0.0.1:5683]
 *               [--site config/dongnan.yaml] [--timeline FILE] [--duration-min M] [--fault F]...
 * load --devices N --rate R --qos Q --duration S --payload-bytes B --mix v3:v5:coap
 *      [--mqtt URI] [--coap URI] [--site FILE] [--api http://...] [--token T] [--summary FILE]
 * </pre>
 *
 * Exit codes: 0 done, 1 bad input or run failure, 2 usage error.
 */
@Command(
    name = "safegrid-sim",
    mixinStandardHelpOptions = true,
    version = "SafeGrid device simulator 0.1",
    description = "Plays SafeGrid devices against a gateway or any MQTT broker.",
    subcommands = {SimMain.Scenario.class, SimMain.Load.class})
public final class SimMain implements Callable<Integer> {

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code (for tests). */
  public static int run(String... args) {
    return new CommandLine(new SimMain())
        .setExecutionExceptionHandler((e, cmd, parsed) -> {
          cmd.getErr().println("error: " + e.getMessage());
          return 1;
        })
        .execute(args);
  }

  @Override
  public Integer call() {
    new CommandLine(this).usage(System.out);
    return 2;
  }

  /** {@code scenario NAME}: plays the site with the scenario's timeline. */
  @Command(name = "scenario", mixinStandardHelpOptions = true,
      description = "Play every device of the site with realistic signals and the scenario's timeline "
          + "(config/scenario-NAME.yaml unless --timeline is given).")
  static final class Scenario implements Callable<Integer> {
    @Parameters(index = "0", description = "scenario name, e.g. dongnan")
    String name;

    @Option(names = "--speed", description = "simulated seconds per real second (default: the file's)")
    Double speed;

    @Option(names = "--mqtt", defaultValue = "tcp://127.0.0.1:1883", description = "MQTT gateway or broker")
    String mqtt;

    @Option(names = "--coap", defaultValue = "coap://127.0.0.1:5683",
        description = "CoAP gateway: coap://host:port (secret in option 65003) or coaps://host:port (DTLS PSK)")
    String coap;

    @Option(names = "--site", defaultValue = "config/dongnan.yaml", description = "site file with the devices")
    Path site;

    @Option(names = "--timeline", description = "scenario file (default config/scenario-NAME.yaml)")
    Path timeline;

    @Option(names = "--duration-min", description = "simulated minutes to run (0 = until Ctrl-C; default: the file's)")
    Double durationMin;

    @Option(names = "--fault", description = "extra fault NAME[:DEVICE][@MINUTE], e.g. garbage:gas-001@2; "
        + "silence, reconnect_storm, backlog_burst, duplicates, out_of_order, clock_skew, garbage, wrong_secret")
    List<String> faults = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
      Path file = timeline != null ? timeline : Path.of("config", "scenario-" + name + ".yaml");
      if (!Files.isReadable(file)) {
        throw new IllegalArgumentException("no scenario file " + file + " (give --timeline FILE)");
      }
      ScenarioSpec spec = ScenarioSpec.read(file);
      if (speed != null) {
        spec = spec.withSpeed(speed);
      }
      if (durationMin != null) {
        spec = spec.withDuration(durationMin);
      }
      var devices = SiteFile.devices(site);
      List<TimelineEntry> extra = new ArrayList<>();
      for (String f : faults) {
        extra.add(ScenarioSpec.parseFault(f, devices.get(0).id()));
      }
      ScenarioRunner runner = new ScenarioRunner(spec.withExtra(extra), devices, mqtt, coap, System.out);
      Runtime.getRuntime().addShutdownHook(new Thread(runner::stop));
      runner.run();
      if (runner.sent.get() > 0 && runner.acked.get() == 0) {
        // nothing the far end took: say so in the exit code, so scripts and CI see it
        System.err.println("scenario: no message was acknowledged (" + runner.sent.get()
            + " sent): is the gateway running at " + mqtt + " / " + coap + "?");
        return 1;
      }
      return 0;
    }
  }

  /** {@code load}: N devices at a target rate; figures to stdout and a JSON summary. */
  @Command(name = "load", mixinStandardHelpOptions = true,
      description = "Load test: N devices publish at a target rate; measures acked msg/s, PUBACK latency "
          + "and (with --api) publish-to-alarm latency. Works against any MQTT broker too.")
  static final class Load implements Callable<Integer> {
    @Option(names = "--devices", defaultValue = "100", description = "simulated devices")
    int devices;

    @Option(names = "--rate", defaultValue = "1000", description = "target messages per second, all devices")
    double rate;

    @Option(names = "--qos", defaultValue = "1", description = "MQTT QoS 0..2 (CoAP: 0 = NON, else CON)")
    int qos;

    @Option(names = "--duration", defaultValue = "30", description = "seconds of publishing")
    int duration;

    @Option(names = "--payload-bytes", defaultValue = "100", description = "telemetry payload size, bytes")
    int payloadBytes;

    @Option(names = "--mix", defaultValue = "1:0:0", description = "weights of MQTT v3 : MQTT v5 : CoAP devices")
    String mix;

    @Option(names = "--mqtt", defaultValue = "tcp://127.0.0.1:1883", description = "MQTT gateway or broker")
    String mqtt;

    @Option(names = "--coap", defaultValue = "coap://127.0.0.1:5683", description = "CoAP gateway")
    String coap;

    @Option(names = "--site", description = "take device ids and secrets from this site file "
        + "(needed against the gateway); without it devices are load-00001.. (for a broker without auth)")
    Path site;

    @Option(names = "--api", description = "gateway HTTP base for /api/live, e.g. http://127.0.0.1:8080; "
        + "without it there is no publish-to-alarm figure")
    String api;

    @Option(names = "--token", defaultValue = "demo-viewer-token", description = "bearer token for /api/live")
    String token;

    @Option(names = "--probe-device", defaultValue = "gas-117", description = "gas alarm that crosses 25 %LEL")
    String probeDevice;

    @Option(names = "--probe-transport", defaultValue = "v3", description = "how the probe talks: v3, v5 or coap")
    String probeTransport;

    @Option(names = "--probe-interval", defaultValue = "10", description = "seconds between probe crossings")
    int probeInterval;

    @Option(names = "--summary", description = "write the JSON summary here")
    Path summary;

    @Option(names = "--drain", defaultValue = "10", description = "seconds to wait for outstanding acks")
    int drain;

    @Option(names = "--warmup", defaultValue = "2",
        description = "first seconds left out of the latency percentiles (messages still counted)")
    int warmup;

    @Override
    public Integer call() throws Exception {
      LoadOptions options = new LoadOptions(devices, rate, qos, duration, payloadBytes,
          LoadOptions.parseMix(mix), mqtt, coap, site, api, token, probeDevice,
          io.safegrid.sim.link.Transport.parse(probeTransport), probeInterval, summary, drain, warmup);
      new LoadRunner(options, System.out).run();
      return 0;
    }
  }
}
