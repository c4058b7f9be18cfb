package dev.rlkafka.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C / SIGTERM for a command that runs until stopped: the JVM's shutdown hook asks the command to
 * stop, then waits until the command says it has closed its services, so the JVM does not exit under them.
 *
 * <p>The hook must not join the main thread: once the command returns, main calls {@code System.exit},
 * which waits for the hook, and both would wait out the timeout.
 */
final class ShutdownSignal implements AutoCloseable {
    private static final long CLOSE_WAIT_SECONDS = 60;

    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread hook;

    /** @param onStop run on the hook thread when a stop is requested, e.g. to set a flag the command polls */
    ShutdownSignal(Runnable onStop) {
        hook = new Thread(() -> {
            onStop.run();
            stopRequested.countDown();
            try {
                closed.await(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "rlkafka-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    ShutdownSignal() {
        this(() -> { });
    }

    /** Blocks until Ctrl-C or SIGTERM. */
    void await() throws InterruptedException {
        stopRequested.await();
    }

    boolean stopRequested() {
        return stopRequested.getCount() == 0;
    }

    /** The command has closed its services: a waiting hook may let the JVM exit. */
    @Override
    public void close() {
        closed.countDown();
        if (!stopRequested()) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // shutdown already under way: the hook runs and finds the latch open
            }
        }
    }
}
