package dev.rlkafka.schemas;

import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TimedOutCallsTest {
    /** Times out {@code timeouts} times, then returns. */
    private static Runnable timingOut(int timeouts, AtomicInteger calls) {
        return () -> {
            if (calls.incrementAndGet() <= timeouts) throw new TimeoutException("Timeout expired after 60000ms while awaiting EndTxn(true)");
        };
    }

    @Test
    void theSameCallIsRunAgainUntilItReturns() {
        AtomicInteger calls = new AtomicInteger();
        TimedOutCalls.retry("committing", timingOut(3, calls), () -> true);
        assertEquals(4, calls.get());
    }

    @Test
    void whenToldToStopTheLastTimeoutIsRethrown() {
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger asked = new AtomicInteger();
        TimeoutException thrown = assertThrows(TimeoutException.class,
                () -> TimedOutCalls.retry("committing", timingOut(10, calls), () -> asked.incrementAndGet() < 2));
        assertEquals(2, calls.get(), "retried once, then the closing service stopped asking");
        assertEquals("Timeout expired after 60000ms while awaiting EndTxn(true)", thrown.getMessage());
    }

    @Test
    void anyOtherErrorIsNotRetried() {
        AtomicInteger calls = new AtomicInteger();
        IllegalStateException fenced = new IllegalStateException("fenced");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> TimedOutCalls.retry("committing", () -> {
            calls.incrementAndGet();
            throw fenced;
        }, () -> true));
        assertSame(fenced, thrown);
        assertEquals(1, calls.get());
    }
}
