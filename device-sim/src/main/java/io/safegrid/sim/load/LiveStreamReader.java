package io.safegrid.sim.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.safegrid.sim.link.netty.SocketTransport;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Reads a gateway's {@code GET /api/live} (server-sent events, bearer token) on one Netty event
 * loop: the socket is read, the HTTP chunks decoded, the SSE lines split and each complete event
 * handed to the listener on that same thread, with the time its last bytes were read. No thread
 * hop between the socket and the listener: {@code java.net.http}'s client, used before, read on
 * its selector thread, handed the bytes to an executor thread and then to the thread blocked on
 * the body's {@code InputStream}, three threads per event (docs/performance.md "Alarm path, stage
 * by stage").
 *
 * <p>SSE parsing (WHATWG HTML "Server-sent events"): lines end with LF, CRLF or CR; {@code
 * event:}, {@code data:} (several are joined with LF) and {@code id:} fields; a line starting with
 * {@code :} is a comment; a blank line dispatches the event (default type {@code message}). A lost
 * connection is reopened after one second with {@code Last-Event-ID} set to the last id seen, so
 * the gateway replays what was missed (contract: {@code Last-Event-ID} resumes without loss).
 *
 * <p>The connection is opened on the loop's own socket transport ({@link SocketTransport#of}:
 * io_uring, epoll or NIO, as the probe devices' loop).
 *
 * <p>Plain HTTP only ({@code http://host:port}); the listener runs on the event loop and must not
 * block.
 */
final class LiveStreamReader implements AutoCloseable {

  /** One server-sent event. */
  interface Listener {
    /**
     * @param event the event type ({@code alarm}, {@code device}, ...; {@code message} if none)
     * @param data the data lines joined with LF
     * @param receivedAtNanos {@link System#nanoTime()} when the bytes completing it were read
     */
    void onEvent(String event, String data, long receivedAtNanos);
  }

  /** Longest SSE line accepted, bytes (an alarm event with its alarm is a few KiB). */
  static final int MAX_LINE_BYTES = 1 << 20;

  private final EventLoop loop;
  private final URI base;
  private final String token;
  private final Listener listener;
  private volatile boolean closed;
  private volatile boolean streaming;
  private volatile String lastError;
  private volatile Channel channel;
  private volatile String lastEventId;

  /**
   * Opens the stream at once (and again after each loss, one second later, until {@link #close}).
   *
   * @param loop the event loop the connection and the listener run on
   * @param apiUrl gateway HTTP base, e.g. {@code http://127.0.0.1:8080}
   * @param token bearer token
   * @throws IllegalArgumentException when {@code apiUrl} is not {@code http://host[:port]}
   */
  LiveStreamReader(EventLoop loop, String apiUrl, String token, Listener listener) {
    URI uri = URI.create(apiUrl.replaceAll("/+$", ""));
    if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException("the live stream reader takes http://host:port, was " + apiUrl);
    }
    this.loop = loop;
    this.base = uri;
    this.token = token;
    this.listener = listener;
    connect();
  }

  /** True once the stream answered 200 (stays true across reconnects). */
  boolean streaming() {
    return streaming;
  }

  /** The last connection or stream error, or null. */
  String lastError() {
    return lastError;
  }

  private void connect() {
    if (closed) {
      return;
    }
    int port = base.getPort() > 0 ? base.getPort() : 80;
    new Bootstrap()
        .group(loop)
        .channel(SocketTransport.of(loop).socketChannel()) // the loop's own: io_uring, epoll or NIO
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast("http", new HttpClientCodec());
            ch.pipeline().addLast("sse", new SseHandler());
          }
        })
        .connect(base.getHost(), port)
        .addListener(f -> {
          if (!f.isSuccess()) {
            lastError = "cannot connect to " + base + ": " + f.cause();
            retryLater();
          }
        });
  }

  private void retryLater() {
    if (!closed) {
      loop.schedule(this::connect, 1, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() {
    closed = true;
    Channel ch = channel;
    if (ch != null) {
      ch.close();
    }
  }

  /** HTTP response -> SSE lines -> events, on the event loop. */
  private final class SseHandler extends SimpleChannelInboundHandler<HttpObject> {
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(4096);
    private final StringBuilder data = new StringBuilder();
    private String event;
    private String id;
    private boolean lastWasCr;
    private boolean ok;

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      channel = ctx.channel();
      FullHttpRequest get = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
          (base.getRawPath() == null ? "" : base.getRawPath()) + "/api/live");
      get.headers()
          .set(HttpHeaderNames.HOST, base.getHost() + (base.getPort() > 0 ? ":" + base.getPort() : ""))
          .set(HttpHeaderNames.AUTHORIZATION, "Bearer " + token)
          .set(HttpHeaderNames.ACCEPT, "text/event-stream")
          .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      String resume = lastEventId;
      if (resume != null) {
        get.headers().set("Last-Event-ID", resume);
      }
      ctx.writeAndFlush(get);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      long now = System.nanoTime();
      if (msg instanceof HttpResponse r) {
        ok = r.status().code() == 200;
        if (!ok) {
          lastError = "/api/live answered " + r.status();
          ctx.close();
          return;
        }
        streaming = true;
      }
      if (msg instanceof HttpContent c && ok) {
        feed(c.content(), now);
        if (msg instanceof LastHttpContent) {
          lastError = "/api/live ended the stream";
          ctx.close();
        }
      }
    }

    private void feed(ByteBuf bytes, long now) {
      for (int i = bytes.readerIndex(), end = bytes.writerIndex(); i < end; i++) {
        byte b = bytes.getByte(i);
        if (b == '\n' && lastWasCr) { // the LF of a CRLF
          lastWasCr = false;
          continue;
        }
        lastWasCr = b == '\r';
        if (b == '\n' || b == '\r') {
          onLine(line.toString(StandardCharsets.UTF_8), now);
          line.reset();
        } else if (line.size() < MAX_LINE_BYTES) {
          line.write(b);
        }
      }
    }

    private void onLine(String l, long now) {
      if (l.isEmpty()) {
        if (id != null) {
          lastEventId = id;
        }
        if (data.length() > 0) {
          listener.onEvent(event == null ? "message" : event, data.toString(), now);
        }
        event = null;
        id = null;
        data.setLength(0);
        return;
      }
      if (l.charAt(0) == ':') {
        return; // comment (keepalive)
      }
      int colon = l.indexOf(':');
      String field = colon < 0 ? l : l.substring(0, colon);
      String value = colon < 0 ? "" : l.substring(colon + 1);
      if (value.startsWith(" ")) {
        value = value.substring(1);
      }
      switch (field) {
        case "event" -> event = value;
        case "data" -> {
          if (data.length() > 0) {
            data.append('\n');
          }
          data.append(value);
        }
        case "id" -> id = value;
        default -> { } // retry and unknown fields
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      channel = null;
      if (!closed) {
        if (lastError == null) {
          lastError = "/api/live connection lost";
        }
        retryLater();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      lastError = cause.toString();
      ctx.close();
    }
  }
}
