package io.instructblip.job.kafka;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Accepts TCP connections on a fixed port of the loopback interface and relays each, byte for byte,
 * to the embedded broker's own (free) port. Kafka clients need the fixed port only to bootstrap:
 * the metadata they receive names the broker's own port on localhost, which they then use directly.
 * This is how {@code local --kafka-port P} gives clients a stable address although the broker test
 * kit binds its listener to a free port.
 */
final class BootstrapRelay implements AutoCloseable {
  private final ServerSocket server;
  private final int targetPort;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;

  private BootstrapRelay(ServerSocket server, int targetPort) {
    this.server = server;
    this.targetPort = targetPort;
    this.acceptor = new Thread(this::acceptLoop, "kafka-bootstrap-relay-" + server.getLocalPort());
    acceptor.setDaemon(true);
  }

  /** Listens on {@code 127.0.0.1:port} and relays to {@code 127.0.0.1:targetPort}. */
  static BootstrapRelay start(int port, int targetPort) {
    try {
      ServerSocket server = new ServerSocket();
      server.setReuseAddress(true);
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      BootstrapRelay relay = new BootstrapRelay(server, targetPort);
      relay.acceptor.start();
      return relay;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot listen on port "
              + port
              + " for Kafka clients ("
              + e.getMessage()
              + ");"
              + " choose another --kafka-port or leave it out for a free one",
          e);
    }
  }

  /** The port clients connect to. */
  int port() {
    return server.getLocalPort();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket broker;
        try {
          broker = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        } catch (IOException e) {
          closeQuietly(client);
          throw e;
        }
        open.add(client);
        open.add(broker);
        pump(client, broker);
        pump(broker, client);
      } catch (IOException e) {
        if (!server.isClosed()) {
          // One failed connection (the broker refused it, say) must not stop the relay.
          continue;
        }
      }
    }
  }

  /** Copies {@code from}'s input to {@code to}'s output until either side closes. */
  private void pump(Socket from, Socket to) {
    Thread t =
        new Thread(
            () -> {
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                in.transferTo(out);
              } catch (IOException e) {
                // the other direction or close() ended the connection
              } finally {
                closeQuietly(from);
                closeQuietly(to);
              }
            },
            "kafka-bootstrap-relay-pump");
    t.setDaemon(true);
    t.start();
  }

  private void closeQuietly(Socket socket) {
    open.remove(socket);
    try {
      socket.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    for (Socket socket : open) {
      closeQuietly(socket);
    }
  }
}
