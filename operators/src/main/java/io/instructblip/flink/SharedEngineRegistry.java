package io.instructblip.flink;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One engine per key (e.g. model directory + device) per JVM, shared by every operator subtask that
 * asks for it: opened by the first {@link #acquire}, closed when the last {@link Lease} is closed.
 * Thread-safe; an engine is opened outside the registry lock, so opening one key does not block
 * others, and concurrent acquirers of the same key wait for the one opening.
 *
 * <pre>{@code
 * try (SharedEngineRegistry.Lease<Engine> lease =
 *     SharedEngineRegistry.global().acquire(new EngineKey(modelDir, device), () -> Engine.open(...))) {
 *   lease.get().run(...);
 * }
 * }</pre>
 *
 * <p>Classloader caveat: {@link #global()} is a static, so the sharing reaches as far as the class
 * is loaded once. With the operators jar in the job jar (user-code classloader), subtasks of the
 * same job in one TaskManager share engines, but another job (or the same job after its classloader
 * is released) gets its own registry and its own engines. With the jar in Flink's {@code lib/}
 * (parent classloader), all jobs in the TaskManager share. Keys must have value equality (records).
 */
public final class SharedEngineRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(SharedEngineRegistry.class);
  private static final SharedEngineRegistry GLOBAL = new SharedEngineRegistry();

  /** Opens an engine; may be slow (loads models) and may fail. */
  @FunctionalInterface
  public interface Opener<E extends AutoCloseable> {
    E open() throws Exception;
  }

  private static final class Entry {
    final CompletableFuture<AutoCloseable> engine = new CompletableFuture<>();
    int references;
  }

  private final Map<Object, Entry> entries = new HashMap<>();

  /** The registry shared by this JVM (see the classloader caveat above). */
  public static SharedEngineRegistry global() {
    return GLOBAL;
  }

  /**
   * Returns a lease on the engine for {@code key}, opening it with {@code opener} if no lease on it
   * is open. If opening fails, every waiting acquirer gets the failure and the key is forgotten, so
   * a later acquire tries again.
   */
  public <E extends AutoCloseable> Lease<E> acquire(Object key, Opener<E> opener) throws Exception {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(opener, "opener");
    Entry entry;
    boolean opensIt;
    synchronized (this) {
      entry = entries.get(key);
      opensIt = entry == null;
      if (opensIt) {
        entry = new Entry();
        entries.put(key, entry);
      }
      entry.references++;
    }
    if (opensIt) {
      try {
        entry.engine.complete(Objects.requireNonNull(opener.open(), "opener returned null"));
      } catch (Exception | Error e) {
        entry.engine.completeExceptionally(e);
      }
    }
    AutoCloseable engine;
    try {
      engine = entry.engine.get();
    } catch (ExecutionException e) {
      forgetFailed(key, entry);
      Throwable cause = e.getCause();
      if (cause instanceof Exception exception) {
        throw exception;
      }
      throw (Error) cause;
    } catch (InterruptedException e) {
      release(key, entry);
      throw e;
    }
    @SuppressWarnings("unchecked")
    E typed = (E) engine;
    return new Lease<>(this, key, entry, typed);
  }

  private synchronized void forgetFailed(Object key, Entry entry) {
    entry.references--;
    if (entries.get(key) == entry) {
      entries.remove(key);
    }
  }

  private void release(Object key, Entry entry) {
    synchronized (this) {
      entry.references--;
      if (entry.references > 0 || entries.get(key) != entry) {
        return;
      }
      entries.remove(key);
    }
    entry.engine.thenAccept(
        engine -> {
          try {
            engine.close();
          } catch (Exception e) {
            LOG.warn("Closing the shared engine for {} failed", key, e);
          }
        });
  }

  /** The number of leases open on {@code key} (0 when its engine is closed). */
  public synchronized int references(Object key) {
    Entry entry = entries.get(key);
    return entry == null ? 0 : entry.references;
  }

  /**
   * A reference to a shared engine. {@link #close()} releases it (idempotent); the engine closes
   * with its last lease.
   *
   * @param <E> the engine type
   */
  public static final class Lease<E extends AutoCloseable> implements AutoCloseable {
    private final SharedEngineRegistry registry;
    private final Object key;
    private final Entry entry;
    private final E engine;
    private final AtomicBoolean released = new AtomicBoolean();

    private Lease(SharedEngineRegistry registry, Object key, Entry entry, E engine) {
      this.registry = registry;
      this.key = key;
      this.entry = entry;
      this.engine = engine;
    }

    /** The shared engine; do not close it yourself. */
    public E get() {
      if (released.get()) {
        throw new IllegalStateException("this lease on " + key + " was released");
      }
      return engine;
    }

    @Override
    public void close() {
      if (released.compareAndSet(false, true)) {
        registry.release(key, entry);
      }
    }
  }
}
