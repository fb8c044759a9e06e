package io.safegrid.gateway.coap;

import java.util.regex.Pattern;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.server.resources.Resource;

/**
 * {@code /devices}: its children are every device id (contract: {@code
 * [a-z0-9][a-z0-9-]{0,63}}), all served by one shared {@code /devices/{id}} resource holding
 * {@code telemetry} and {@code events}. Any other name is 4.04 Not Found.
 */
final class DevicesResource extends CoapResource {

  /** Device ids per the contract. */
  static final Pattern DEVICE_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");

  private final CoapResource anyDevice;

  DevicesResource(IngestResource telemetry, IngestResource events) {
    super("devices");
    setVisible(false);
    anyDevice = new CoapResource("{id}");
    anyDevice.setVisible(false);
    anyDevice.add(telemetry);
    anyDevice.add(events);
    add(anyDevice);
  }

  @Override
  public Resource getChild(String name) {
    return name != null && DEVICE_ID.matcher(name).matches() ? anyDevice : null;
  }
}
