package io.instructblip.flink;

import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;

/** Runs a harness's mails on the test thread (which is the harness's task thread). */
final class Mailboxes {
  private static final long TIMEOUT_MILLIS = 10_000;

  private Mailboxes() {}

  /** Runs mails as they arrive until {@code condition} holds; fails after 10 s. */
  static void runMailsUntil(AbstractStreamOperatorTestHarness<?> harness, BooleanSupplier condition)
      throws Exception {
    TaskMailbox mailbox = harness.getTaskMailbox();
    long deadline = System.currentTimeMillis() + TIMEOUT_MILLIS;
    while (!condition.getAsBoolean()) {
      Optional<Mail> mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY);
      if (mail.isPresent()) {
        mail.get().run();
      } else if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("condition not reached within " + TIMEOUT_MILLIS + " ms");
      } else {
        Thread.sleep(1);
      }
    }
  }

  /** Waits until {@code condition} holds without running mails; fails after 10 s. */
  static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.currentTimeMillis() + TIMEOUT_MILLIS;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("condition not reached within " + TIMEOUT_MILLIS + " ms");
      }
      Thread.sleep(1);
    }
  }
}
