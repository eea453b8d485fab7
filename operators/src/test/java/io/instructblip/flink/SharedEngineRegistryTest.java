package io.instructblip.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SharedEngineRegistryTest {

  private record Key(String modelDir, String device) {}

  private static final class Engine implements AutoCloseable {
    final AtomicInteger closes = new AtomicInteger();

    @Override
    public void close() {
      closes.incrementAndGet();
    }
  }

  private final SharedEngineRegistry registry = new SharedEngineRegistry();
  private final AtomicInteger opens = new AtomicInteger();

  private Engine open() {
    opens.incrementAndGet();
    return new Engine();
  }

  @Test
  void oneEnginePerKeyClosedWithItsLastLease() throws Exception {
    Key key = new Key("/models/a", "cpu");
    var first = registry.acquire(key, this::open);
    var second = registry.acquire(new Key("/models/a", "cpu"), this::open);
    assertSame(first.get(), second.get());
    assertEquals(1, opens.get());
    assertEquals(2, registry.references(key));

    first.close();
    first.close(); // idempotent
    assertEquals(1, registry.references(key));
    assertEquals(0, second.get().closes.get());
    Engine engine = second.get();
    second.close();
    assertEquals(1, engine.closes.get());
    assertEquals(0, registry.references(key));
    assertThrows(IllegalStateException.class, second::get);

    try (var again = registry.acquire(key, this::open)) {
      assertNotSame(engine, again.get());
      assertEquals(2, opens.get());
    }
  }

  @Test
  void differentKeysGetDifferentEngines() throws Exception {
    try (var cpu = registry.acquire(new Key("/m", "cpu"), this::open);
        var gpu = registry.acquire(new Key("/m", "cuda:0"), this::open)) {
      assertNotSame(cpu.get(), gpu.get());
      assertEquals(2, opens.get());
    }
  }

  @Test
  void aFailedOpenIsReportedAndForgotten() throws Exception {
    Key key = new Key("/broken", "cpu");
    EngineException e =
        assertThrows(
            EngineException.class,
            () ->
                registry.acquire(
                    key,
                    () -> {
                      throw new EngineException(ErrorCode.MODEL_INVALID, "manifest.json missing");
                    }));
    assertEquals("manifest.json missing", e.getMessage());
    assertEquals(0, registry.references(key));
    try (var lease = registry.acquire(key, this::open)) {
      assertEquals(1, opens.get());
    }
  }

  @Test
  void concurrentAcquirersShareOneOpen() throws Exception {
    Key key = new Key("/slow", "cpu");
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<SharedEngineRegistry.Lease<Engine>>> futures = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  return registry.acquire(
                      key,
                      () -> {
                        Thread.sleep(50);
                        return open();
                      });
                }));
      }
      start.countDown();
      List<SharedEngineRegistry.Lease<Engine>> leases = new ArrayList<>();
      for (var future : futures) {
        leases.add(future.get());
      }
      assertEquals(1, opens.get());
      assertEquals(8, registry.references(key));
      Engine engine = leases.get(0).get();
      for (var lease : leases) {
        assertSame(engine, lease.get());
        lease.close();
      }
      assertEquals(1, engine.closes.get());
      assertEquals(0, registry.references(key));
    } finally {
      pool.shutdownNow();
    }
  }
}
