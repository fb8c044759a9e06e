package io.safegrid.gateway.coap;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.EmptyMessage;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;

/**
 * A bare CoAP device over a UDP socket, one request at a time: sends exactly the messages the test
 * builds (e.g. block1 blocks without Size1), which Californium's own client stack would rewrite.
 */
final class RawCoapDevice implements AutoCloseable {

  private final DatagramSocket socket;
  private final UdpDataSerializer serializer = new UdpDataSerializer();
  private final UdpDataParser parser = new UdpDataParser();
  private int mid = 1;

  RawCoapDevice(int port) throws Exception {
    socket = new DatagramSocket();
    socket.connect(new InetSocketAddress("127.0.0.1", port));
    socket.setSoTimeout(5_000);
  }

  /** Sends a CON request and returns its response (piggybacked or separate), null on timeout. */
  Response exchange(Request request) throws Exception {
    request.setMID(mid++ & 0xffff);
    request.setToken(Token.fromProvider(new byte[] {1, 2, 3, (byte) mid}));
    byte[] out = serializer.getByteArray(request);
    socket.send(new DatagramPacket(out, out.length));
    byte[] in = new byte[4096];
    while (true) {
      DatagramPacket packet = new DatagramPacket(in, in.length);
      try {
        socket.receive(packet);
      } catch (SocketTimeoutException e) {
        return null;
      }
      byte[] data = java.util.Arrays.copyOf(packet.getData(), packet.getLength());
      Message message = parser.parseMessage(data);
      if (message instanceof Response response) {
        if (response.getType() == Type.CON) {
          EmptyMessage ack = EmptyMessage.newACK(response);
          ack.setToken(Token.EMPTY); // an empty ACK carries no token (RFC 7252 4.1)
          byte[] ackBytes = serializer.getByteArray(ack);
          socket.send(new DatagramPacket(ackBytes, ackBytes.length));
        }
        return response;
      }
      // an empty ACK: the separate response follows
    }
  }

  @Override
  public void close() {
    socket.close();
  }
}
