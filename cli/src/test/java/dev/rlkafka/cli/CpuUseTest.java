package dev.rlkafka.cli;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuUseTest {
    @Test
    void chargesABusyThreadToItsGroupAndAnIdleOneToNothing() throws Exception {
        CpuUse.Snapshot before = CpuUse.take();
        Thread busy = new Thread(() -> spin(400), "trainer-cpu-test");
        Thread idle = new Thread(() -> sleep(400), "demo-generator-sampling");
        busy.start();
        idle.start();
        CpuUse.Snapshot after = takeWhileAlive(busy, idle);
        busy.join();
        idle.join();

        CpuUse.Share share = CpuUse.between(before, after);
        double trainer = share.cores().get("trainer");
        assertTrue(trainer > 0.3, "a thread spinning for most of the window uses most of a core: " + share.line());
        assertTrue(share.cores().get("generator sampling") < 0.1, share.line());
        assertTrue(share.total() >= trainer - 1e-9, "the process used at least what its threads did: " + share.line());
        assertEquals(CpuUse.Share.NONE, CpuUse.between(after, before), "no time passed from after to before");
    }

    /** The snapshot is taken while both threads still run: a thread that ended is not in it. */
    private static CpuUse.Snapshot takeWhileAlive(Thread busy, Thread idle) throws InterruptedException {
        TimeUnit.MILLISECONDS.sleep(350);
        assertTrue(busy.isAlive() && idle.isAlive(), "the test threads ended too early to be measured");
        return CpuUse.take();
    }

    private static void spin(long millis) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        long x = 0;
        while (System.nanoTime() < end) x += x * 31 + 7;
        if (x == 42) System.out.println(x);   // keeps the loop from being optimised away
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
