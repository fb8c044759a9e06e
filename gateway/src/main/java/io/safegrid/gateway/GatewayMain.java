package io.safegrid.gateway;

import io.safegrid.gateway.config.ConfigException;
import io.safegrid.gateway.config.ConfigLoader;
import io.safegrid.gateway.config.LoadedConfig;
import io.safegrid.gateway.wiring.Gateway;
import io.safegrid.gateway.wiring.GatewayStartException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The gateway launcher: {@code java -jar safegrid-gateway.jar [--config FILE]} (what {@code
 * bin/safegrid gateway} runs).
 *
 * <p>Loads the configuration ({@code --config}, else {@code SAFEGRID_CONFIG}, else {@code
 * config/dongnan.yaml}; environment overrides as in the contract), starts the {@link Gateway},
 * logs {@code SafeGrid listening: mqtt=... coap=... coaps=... http=...}, and runs until SIGTERM or
 * Ctrl-C, which stop every part in reverse order.
 *
 * <p>Exit codes: 0 after a clean stop; 2 for a configuration error (the message names file, line
 * and field); 1 when a part cannot start (e.g. the database is unreachable).
 */
@Command(
    name = "safegrid-gateway",
    mixinStandardHelpOptions = true,
    description = "SafeGrid IoT safety gateway: MQTT and CoAP ingest, TimescaleDB, rules, alarms, dashboard.")
public final class GatewayMain implements Callable<Integer> {

  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      description = "site configuration (YAML); default: $SAFEGRID_CONFIG or config/dongnan.yaml")
  String config;

  @Override
  public Integer call() throws InterruptedException {
    Path file = ConfigLoader.configPath(config, System.getenv());
    LoadedConfig loaded;
    try {
      loaded = new ConfigLoader().load(file);
    } catch (ConfigException e) {
      System.err.println("safegrid: configuration error: " + e.getMessage());
      return 2;
    }
    Gateway gateway;
    try {
      gateway = Gateway.start(loaded);
    } catch (GatewayStartException e) {
      System.err.println("safegrid: " + e.getMessage());
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  gateway.close();
                  stopped.countDown();
                },
                "safegrid-shutdown"));
    stopped.await();
    return 0;
  }

  /** Entry point. */
  public static void main(String[] args) {
    int code;
    try {
      code = new CommandLine(new GatewayMain()).execute(args);
    } catch (Throwable t) { // picocli reports exceptions; this is for Errors (a broken jar)
      t.printStackTrace();
      code = 1;
    }
    if (code != 0) {
      System.exit(code);
    }
  }
}
